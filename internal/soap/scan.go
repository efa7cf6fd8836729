package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scanner is the tokenizer of the envelope reader: a hand-written,
// allocation-free replacement for encoding/xml's Decoder.Token over a body
// held in memory, which allocated for every token and cost most of a
// request's CPU.
//
// It accepts exactly what encoding/xml's strict Decoder (no Entity map, no
// CharsetReader) accepts, token for token, and returns the same names,
// namespaces, attribute values and text; FuzzScannerMatchesEncodingXML
// checks it against encoding/xml. What it reads:
//
//   - start, end and empty-element tags, with encoding/xml's namespace
//     rules (an undeclared prefix is left as the namespace, as
//     encoding/xml does; xmlns="" and xmlns:p="" bind to no namespace);
//   - character data and attribute values, with CR LF and CR read as LF,
//     the five predefined entities and numeric character references (up to
//     U+10FFFF); any other entity, invalid UTF-8 and characters XML 1.0
//     forbids (NUL, most controls, U+FFFE) are errors, as is "]]>" in
//     character data;
//   - CDATA sections, comments (their text unchecked, as encoding/xml),
//     processing instructions, the XML declaration, whose version must be
//     1.0 and encoding UTF-8.
//
// A directive (<!DOCTYPE ...>, <!ENTITY ...>) is returned as soon as its
// "<!" is seen, without reading it, and the scanner stops there: the
// envelope reader refuses it, so no DTD, no entity declaration and no
// external reference is ever read. Bounds are the envelope reader's
// (depth, element count, attribute count) but for the attributes of one
// tag, which the scanner stops reading after maxAttrs.
//
// Names and values are slices of the body, or of an arena that holds the
// text that had to be decoded (references, CR); both stay valid until the
// scanner is reset.
type scanner struct {
	data []byte
	pos  int
	err  error // sticky

	stack   []openElem
	ns      []binding
	closing bool   // the last start tag was empty: its end comes next
	arena   []byte // decoded text; append only until reset

	// The current token.
	kind   tokKind
	name   qn     // start and end tags
	attrs  []attr // start tags
	text   []byte // character data, comment, processing instruction's content, directive
	target []byte // processing instruction's target
}

type tokKind uint8

const (
	tokStart tokKind = iota + 1
	tokEnd
	tokText
	tokComment
	tokProcInst
	tokDirective
)

// qn is a resolved name: the namespace (encoding/xml's Name.Space) and the
// local name.
type qn struct{ space, local []byte }

// xmlName is n as encoding/xml writes it, for messages.
func (n qn) xmlName() xml.Name { return xml.Name{Space: string(n.space), Local: string(n.local)} }

// is tells whether n is local in namespace space.
func (n qn) is(space, local string) bool {
	return string(n.space) == space && string(n.local) == local
}

type attr struct {
	prefix, local []byte // as written
	name          qn     // resolved
	value         []byte
}

type openElem struct {
	prefix, local []byte
	nsLen         int // len(ns) before the element's declarations
}

type binding struct{ prefix, uri []byte } // prefix "" for xmlns="..."

var (
	xmlnsPrefix = []byte("xmlns")
	xmlURL      = []byte("http://www.w3.org/XML/1998/namespace")
)

// reset makes s read data.
func (s *scanner) reset(data []byte) {
	s.data, s.pos, s.err, s.closing = data, 0, nil, false
	s.stack, s.ns, s.arena, s.attrs = s.stack[:0], s.ns[:0], s.arena[:0], s.attrs[:0]
	s.kind, s.name, s.text, s.target = 0, qn{}, nil, nil
}

// release drops every reference to the body, keeping the capacity of the
// slices, for a pool.
func (s *scanner) release() {
	clear(s.stack[:cap(s.stack)])
	clear(s.ns[:cap(s.ns)])
	clear(s.attrs[:cap(s.attrs)])
	if cap(s.arena) > maxPooled {
		s.arena = nil
	}
	s.reset(nil)
}

// xmlError is a document that is not well-formed, or an XML declaration
// this service refuses.
type xmlError struct {
	offset int    // where it was found, for the line
	msg    string // encoding/xml's wording
	enc    string // the encoding the XML declaration names, when it is the fault
	limit  bool   // a bound of this service, not a flaw of the XML
}

func (e *xmlError) Error() string { return "xml: " + e.msg }

// line is the 1-based line of e in data.
func (e *xmlError) line(data []byte) int {
	return 1 + bytes.Count(data[:min(e.offset, len(data))], []byte{'\n'})
}

func (s *scanner) fail(msg string) error {
	s.err = &xmlError{offset: s.pos, msg: msg}
	return s.err
}

// maxEcho bounds a name or an entity a message quotes from the document: a
// fault says where the error is, it does not echo a 60 KB element name.
const maxEcho = 64

// clipped is b as text for a message, cut to maxEcho bytes with an
// ellipsis.
func clipped(b []byte) string {
	if len(b) > maxEcho {
		b = b[:maxEcho+utf8.UTFMax] // clip cuts it on a rune boundary
	}
	return clip(string(b), maxEcho)
}

func (s *scanner) failf(format string, args ...any) error {
	return s.fail(fmt.Sprintf(format, args...))
}

// next reads the next token into s, or returns the error that stops the
// document; io.EOF at its end outside any element.
func (s *scanner) next() (tokKind, error) {
	if s.err != nil {
		return 0, s.err
	}
	s.attrs, s.text, s.target = s.attrs[:0], nil, nil
	if s.closing {
		s.closing = false
		top := s.stack[len(s.stack)-1]
		return s.endTag(top.prefix, top.local)
	}
	d := s.data
	if s.pos >= len(d) {
		if len(s.stack) > 0 {
			return 0, s.fail("unexpected EOF")
		}
		return 0, io.EOF
	}
	if d[s.pos] != '<' {
		t, err := s.chars(inData, 0)
		if err != nil {
			return 0, err
		}
		s.kind, s.text = tokText, t
		return tokText, nil
	}
	s.pos++
	if s.pos >= len(d) {
		return 0, s.fail("unexpected EOF")
	}
	switch d[s.pos] {
	case '/':
		s.pos++
		_, prefix, local, err := s.qualifiedName("expected element name after </")
		if err != nil {
			return 0, err
		}
		if err := s.expect('>', "invalid characters between </"+clipped(local)+" and >"); err != nil {
			return 0, err
		}
		return s.endTag(prefix, local)
	case '?':
		return s.procInst()
	case '!':
		return s.bang()
	}
	return s.startTag()
}

// qualifiedName reads a name at s.pos and splits it at its colon; msg is
// the error when there is no valid name there.
func (s *scanner) qualifiedName(msg string) (raw, prefix, local []byte, err error) {
	raw, ok := s.readName()
	if !ok {
		return nil, nil, nil, s.failIf(msg)
	}
	if prefix, local, ok = splitName(raw); !ok {
		return nil, nil, nil, s.fail(msg)
	}
	return raw, prefix, local, nil
}

// expect skips spaces and consumes c, or fails as consume does.
func (s *scanner) expect(c byte, msg string) error {
	s.space()
	return s.consume(c, msg)
}

// consume consumes c at s.pos, or fails with msg (at the end of the data,
// with "unexpected EOF").
func (s *scanner) consume(c byte, msg string) error {
	if s.pos >= len(s.data) {
		return s.fail("unexpected EOF")
	}
	if s.data[s.pos] != c {
		s.pos++
		return s.fail(msg)
	}
	s.pos++
	return nil
}

// failIf fails with msg unless a more precise error (an unexpected EOF,
// an invalid name) is already set.
func (s *scanner) failIf(msg string) error {
	if s.err != nil {
		return s.err
	}
	return s.fail(msg)
}

// startTag reads <name attr="value" ...> or <name .../> from s.pos (after
// the '<').
func (s *scanner) startTag() (tokKind, error) {
	d := s.data
	raw, prefix, local, err := s.qualifiedName("expected element name after <")
	if err != nil {
		return 0, err
	}
	empty := false
	for {
		s.space()
		if s.pos >= len(d) {
			return 0, s.fail("unexpected EOF")
		}
		c := d[s.pos]
		if c == '/' {
			s.pos++
			if err := s.consume('>', "expected /> in element"); err != nil {
				return 0, err
			}
			empty = true
			break
		}
		if c == '>' {
			s.pos++
			break
		}
		if len(s.attrs) == maxAttrs {
			s.err = &xmlError{offset: s.pos, msg: fmt.Sprintf("element %s has more than %d attributes", raw, maxAttrs), limit: true}
			return 0, s.err
		}
		_, ap, al, err := s.qualifiedName("expected attribute name in element")
		if err != nil {
			return 0, err
		}
		if err := s.expect('=', "attribute name without = in element"); err != nil {
			return 0, err
		}
		s.space()
		if s.pos >= len(d) {
			return 0, s.fail("unexpected EOF")
		}
		q := d[s.pos]
		s.pos++
		if q != '"' && q != '\'' {
			return 0, s.fail("unquoted or missing attribute value in element")
		}
		v, err := s.chars(inAttr, q)
		if err != nil {
			return 0, err
		}
		s.attrs = append(s.attrs, attr{prefix: ap, local: al, value: v})
	}

	// The declarations of the tag apply to its name and its attributes'.
	nsLen := len(s.ns)
	for _, a := range s.attrs {
		switch {
		case bytes.Equal(a.prefix, xmlnsPrefix):
			s.ns = append(s.ns, binding{prefix: a.local, uri: a.value})
		case len(a.prefix) == 0 && bytes.Equal(a.local, xmlnsPrefix):
			s.ns = append(s.ns, binding{prefix: nil, uri: a.value})
		}
	}
	s.stack = append(s.stack, openElem{prefix: prefix, local: local, nsLen: nsLen})
	s.kind = tokStart
	s.name = qn{space: s.resolve(prefix, local, true), local: local}
	for i := range s.attrs {
		a := &s.attrs[i]
		a.name = qn{space: s.resolve(a.prefix, a.local, false), local: a.local}
	}
	s.closing = empty
	return tokStart, nil
}

// endTag closes the innermost element, which must be prefix:local, and
// drops its namespace declarations.
func (s *scanner) endTag(prefix, local []byte) (tokKind, error) {
	if len(s.stack) == 0 {
		return 0, s.fail("unexpected end element </" + clipped(local) + ">")
	}
	top := s.stack[len(s.stack)-1]
	switch {
	case !bytes.Equal(top.local, local):
		return 0, s.fail("element <" + clipped(top.local) + "> closed by </" + clipped(local) + ">")
	case !bytes.Equal(top.prefix, prefix):
		ns := clipped(prefix)
		if ns == "" {
			ns = `""`
		}
		return 0, s.fail("element <" + clipped(top.local) + "> in space " + clipped(top.prefix) +
			" closed by </" + string(local) + "> in space " + ns)
	}
	s.kind = tokEnd
	s.name = qn{space: s.resolve(prefix, local, true), local: local}
	s.ns = s.ns[:top.nsLen]
	s.stack = s.stack[:len(s.stack)-1]
	return tokEnd, nil
}

// resolve returns the namespace of a name, as encoding/xml's translate
// does: xmlns and unprefixed attributes keep theirs, xml is the XML
// namespace, a declared prefix its URI, an undeclared one itself.
func (s *scanner) resolve(prefix, local []byte, element bool) []byte {
	switch {
	case bytes.Equal(prefix, xmlnsPrefix):
		return prefix
	case len(prefix) == 0 && !element:
		return nil
	case string(prefix) == "xml":
		return xmlURL
	case len(prefix) == 0 && bytes.Equal(local, xmlnsPrefix):
		return nil
	}
	for i := len(s.ns) - 1; i >= 0; i-- {
		if bytes.Equal(s.ns[i].prefix, prefix) {
			return s.ns[i].uri
		}
	}
	if len(prefix) == 0 {
		return nil
	}
	return prefix
}

// procInst reads <?target content?> from s.pos (at the '?'); the XML
// declaration's version must be 1.0 and its encoding UTF-8.
func (s *scanner) procInst() (tokKind, error) {
	s.pos++
	target, ok := s.readName()
	if !ok {
		return 0, s.failIf("expected target name after <?")
	}
	s.space()
	j := bytes.Index(s.data[s.pos:], []byte("?>"))
	if j < 0 {
		s.pos = len(s.data)
		return 0, s.fail("unexpected EOF")
	}
	content := s.data[s.pos : s.pos+j]
	s.pos += j + 2
	if string(target) == "xml" {
		if ver := procInstParam("version", content); len(ver) > 0 && string(ver) != "1.0" {
			return 0, s.failf("unsupported version %q; only version 1.0 is supported", ver)
		}
		if enc := procInstParam("encoding", content); len(enc) > 0 && !strings.EqualFold(string(enc), "utf-8") {
			s.err = &xmlError{offset: s.pos, msg: fmt.Sprintf("encoding %q declared", enc), enc: string(enc)}
			return 0, s.err
		}
	}
	s.kind, s.target, s.text = tokProcInst, target, content
	return tokProcInst, nil
}

// procInstParam is encoding/xml's procInst: the value of param="..." in
// the content of a processing instruction, found as loosely.
func procInstParam(param string, s []byte) []byte {
	lenp := len(param) + 1
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := indexParam(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return nil
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return nil
	}
	j := bytes.IndexByte(s[i:], sep)
	if j < 0 {
		return nil
	}
	return s[i : i+j]
}

// indexParam is the index of param followed by '=' in s, or -1.
func indexParam(s []byte, param string) int {
	for i := 0; ; {
		k := bytes.Index(s[i:], []byte(param))
		if k < 0 {
			return -1
		}
		k += i
		if k+len(param) < len(s) && s[k+len(param)] == '=' {
			return k
		}
		i = k + 1
	}
}

// bang reads what follows "<!": a comment, a CDATA section, or the start of
// a directive, which ends the scan.
func (s *scanner) bang() (tokKind, error) {
	d := s.data
	s.pos++
	if s.pos >= len(d) {
		return 0, s.fail("unexpected EOF")
	}
	switch d[s.pos] {
	case '-':
		s.pos++
		if err := s.consume('-', "invalid sequence <!- not part of <!--"); err != nil {
			return 0, err
		}
		j := bytes.Index(d[s.pos:], []byte("--"))
		if j < 0 || s.pos+j+2 >= len(d) {
			s.pos = len(d)
			return 0, s.fail("unexpected EOF")
		}
		content := d[s.pos : s.pos+j]
		s.pos += j + 2
		if d[s.pos] != '>' {
			s.pos++
			return 0, s.fail(`invalid sequence "--" not allowed in comments`)
		}
		s.pos++
		s.kind, s.text = tokComment, content
		return tokComment, nil
	case '[':
		s.pos++
		for i := 0; i < len("CDATA["); i++ {
			if err := s.consume("CDATA["[i], "invalid <![ sequence"); err != nil {
				return 0, err
			}
		}
		t, err := s.chars(inCDATA, 0)
		if err != nil {
			return 0, err
		}
		s.kind, s.text = tokText, t
		return tokText, nil
	}
	// A directive: returned unread, and nothing after it.
	s.kind, s.text = tokDirective, d[s.pos:]
	s.err = s.fail("directive <!...> not read")
	return tokDirective, nil
}

// space skips XML white space.
func (s *scanner) space() {
	for s.pos < len(s.data) && isSpaceByte(s.data[s.pos]) {
		s.pos++
	}
}

// readName reads a name from s.pos: the bytes encoding/xml reads as one
// (ASCII name characters, any non-ASCII byte), then checked. ok is false,
// with no error set, when no name starts at s.pos.
func (s *scanner) readName() (name []byte, ok bool) {
	d := s.data
	start := s.pos
	for s.pos < len(d) && nameBytes[d[s.pos]] {
		s.pos++
	}
	if s.pos >= len(d) {
		s.fail("unexpected EOF")
		return nil, false
	}
	if s.pos == start {
		return nil, false
	}
	name = d[start:s.pos]
	if !isName(name) {
		s.fail("invalid XML name: " + clipped(name))
		return nil, false
	}
	return name, true
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// nameBytes are the bytes encoding/xml reads as part of a name: ASCII name
// characters and every non-ASCII byte.
var nameBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= utf8.RuneSelf || isNameByte(byte(c))
	}
	return t
}()

// isName tells whether b is an XML name by encoding/xml's rules: an ASCII
// name starts with a letter, '_' or ':'. A name with other characters,
// which no SOAP client of this service writes, is checked by encoding/xml
// itself, whose tables of name characters (XML 1.0, 4th edition) this
// package does not copy.
func isName(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return isNameXML(b)
		}
	}
	c := b[0]
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
}

// isNameXML asks encoding/xml whether b is a name: as the name of an empty
// element, with its colons (name characters anywhere, but which
// encoding/xml counts in an element's name) read as '_', another.
func isNameXML(b []byte) bool {
	doc := make([]byte, 0, len(b)+3)
	doc = append(append(append(doc, '<'), b...), "/>"...)
	for i, c := range doc {
		if c == ':' {
			doc[i] = '_'
		}
	}
	tok, err := xml.NewDecoder(bytes.NewReader(doc)).RawToken()
	_, ok := tok.(xml.StartElement)
	return err == nil && ok
}

// splitName splits prefix:local as encoding/xml's nsname does: a name with
// two colons is refused, one with an empty prefix or local part is all
// local.
func splitName(b []byte) (prefix, local []byte, ok bool) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return nil, b, true
	}
	if bytes.IndexByte(b[i+1:], ':') >= 0 {
		return nil, nil, false
	}
	if i == 0 || i == len(b)-1 {
		return nil, b, true
	}
	return b[:i], b[i+1:], true
}

// The three kinds of character data.
const (
	inData  = iota // text: up to '<' or the end of the document
	inAttr         // an attribute value: up to the closing quote
	inCDATA        // a CDATA section: up to "]]>"
)

// chars reads character data from s.pos and returns it decoded: CR LF and
// CR as LF, references replaced (not in CDATA). Text that needs no
// decoding is a slice of the body; other text is in the arena. Every
// character must be one XML allows.
func (s *scanner) chars(mode int, quote byte) ([]byte, error) {
	d := s.data
	start, i := s.pos, s.pos
	end := -1
	copying := false     // the text is being built in the arena
	from := len(s.arena) // where it starts there
	lit := i             // the first byte not yet copied to the arena
	mark := i            // "]]>" counts from here (after the last reference)
	flush := func(to int) {
		if !copying {
			copying = true
		}
		s.arena = append(s.arena, d[lit:to]...)
	}
loop:
	for i < len(d) {
		c := d[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && n == 1 {
				s.pos = i + 1
				return nil, s.fail("invalid UTF-8")
			}
			if !isInCharacterRange(r) {
				s.pos = i + n
				return nil, s.failf("illegal character code %U", r)
			}
			i += n
			continue
		}
		switch {
		case c == '<' && mode != inCDATA:
			if mode == inAttr {
				s.pos = i + 1
				return nil, s.fail("unescaped < inside quoted string")
			}
			end = i
			break loop
		case c == quote && mode == inAttr:
			end = i
			i++
			break loop
		case c == '>' && mode != inAttr && i-2 >= mark && d[i-1] == ']' && d[i-2] == ']':
			if mode == inData {
				s.pos = i + 1
				return nil, s.fail("unescaped ]]> not in CDATA section")
			}
			end = i - 2
			i++
			break loop
		case c == '&' && mode != inCDATA:
			flush(i)
			n, err := s.reference(i)
			if err != nil {
				return nil, err
			}
			i += n
			lit, mark = i, i
			continue
		case c == '\r':
			flush(i)
			s.arena = append(s.arena, '\n')
			i++
			if i < len(d) && d[i] == '\n' {
				i++
			}
			lit = i
			continue
		case c < 0x20 && c != '\t' && c != '\n':
			s.pos = i + 1
			return nil, s.failf("illegal character code %U", rune(c))
		}
		i++
	}
	if end < 0 {
		// The end of the document.
		s.pos = len(d)
		switch mode {
		case inAttr:
			return nil, s.fail("unexpected EOF")
		case inCDATA:
			return nil, s.fail("unexpected EOF in CDATA section")
		}
		end = len(d)
	}
	s.pos = i
	if !copying {
		return d[start:end], nil
	}
	if lit < end {
		s.arena = append(s.arena, d[lit:end]...)
	}
	return s.arena[from:len(s.arena):len(s.arena)], nil
}

// reference decodes the reference at d[i] ('&') into the arena and
// returns its length: one of the five predefined entities or a character
// reference &#N; or &#xH; of at most U+10FFFF, whose character XML must
// allow (a surrogate reads as U+FFFD, as in encoding/xml).
func (s *scanner) reference(i int) (int, error) {
	d := s.data
	j := i + 1
	if j >= len(d) {
		s.pos = j
		return 0, s.fail("unexpected EOF")
	}
	if d[j] == '#' {
		j++
		if j >= len(d) {
			s.pos = j
			return 0, s.fail("unexpected EOF")
		}
		base := 10
		if d[j] == 'x' {
			base = 16
			j++
		}
		digitsStart := j
		var n uint64
		for ; j < len(d); j++ {
			c := d[j]
			var v byte
			switch {
			case '0' <= c && c <= '9':
				v = c - '0'
			case base == 16 && 'a' <= c && c <= 'f':
				v = c - 'a' + 10
			case base == 16 && 'A' <= c && c <= 'F':
				v = c - 'A' + 10
			default:
				goto digitsDone
			}
			if n <= unicode.MaxRune {
				n = n*uint64(base) + uint64(v)
			}
		}
	digitsDone:
		if j >= len(d) {
			s.pos = j
			return 0, s.fail("unexpected EOF")
		}
		if d[j] != ';' {
			s.pos = j
			return 0, s.fail("invalid character entity " + clipped(d[i:j]) + " (no semicolon)")
		}
		if j == digitsStart || n > unicode.MaxRune {
			s.pos = j + 1
			return 0, s.fail("invalid character entity " + clipped(d[i:j+1]))
		}
		r := rune(n)
		if r >= 0xD800 && r <= 0xDFFF {
			r = utf8.RuneError
		}
		if !isInCharacterRange(r) {
			s.pos = j + 1
			return 0, s.failf("illegal character code %U", r)
		}
		s.arena = utf8.AppendRune(s.arena, r)
		return j + 1 - i, nil
	}
	for j < len(d) && nameBytes[d[j]] {
		j++
	}
	if j >= len(d) {
		s.pos = j
		return 0, s.fail("unexpected EOF")
	}
	if d[j] != ';' {
		s.pos = j
		return 0, s.fail("invalid character entity " + clipped(d[i:j]) + " (no semicolon)")
	}
	var c byte
	switch string(d[i+1 : j]) {
	case "lt":
		c = '<'
	case "gt":
		c = '>'
	case "amp":
		c = '&'
	case "apos":
		c = '\''
	case "quot":
		c = '"'
	default:
		s.pos = j + 1
		return 0, s.fail("invalid character entity " + clipped(d[i:j+1]))
	}
	s.arena = append(s.arena, c)
	return j + 1 - i, nil
}

// isInCharacterRange tells whether XML 1.0 allows r in a document (its
// Char production).
func isInCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// quoteEnc quotes the encoding an XML declaration names, for a message.
func quoteEnc(enc string) string {
	q := strconv.Quote(enc)
	return quote(clip(q[1:len(q)-1], 32))
}
