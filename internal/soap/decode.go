package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Bounds of an envelope. A lookup is about a dozen elements four levels
// deep; these leave room for header blocks and pretty clients, and stop
// a deep or wide document long before it costs anything. The identifiant
// elements of a consulterBoursiers do not count among the maxElements:
// they are bounded by bourse.MaxBatch.
const (
	maxDepth    = 32
	maxElements = 256
	maxAttrs    = 32
)

// bom is the UTF-8 byte order mark some clients (.NET) put first.
var bom = []byte{0xEF, 0xBB, 0xBF}

// request is a decoded envelope: the operation its Body names and its
// input.
type request struct {
	operation string        // opLookup or opLookupBatch, once the Body's element is recognised
	saisie    bourse.Saisie // consulterBoursier
	batch     bourse.Batch  // consulterBoursiers
}

// The fields of consulterBoursier, in the WSDL's order.
const (
	fIdentifiant = iota
	fAnnee
	fCodeEtablissement
	fNom
	fPrenom
	fDateNaissance
)

var fieldNames = [...]string{"identifiant", "anneeUniversitaire", "codeEtablissement", "nom", "prenom", "dateNaissance"}

const fieldList = "identifiant, anneeUniversitaire, codeEtablissement, nom, prenom or dateNaissance"

func fieldIndex(local []byte) int {
	switch string(local) {
	case "identifiant":
		return fIdentifiant
	case "anneeUniversitaire":
		return fAnnee
	case "codeEtablissement":
		return fCodeEtablissement
	case "nom":
		return fNom
	case "prenom":
		return fPrenom
	case "dateNaissance":
		return fDateNaissance
	}
	return -1
}

// decodeEnvelope reads a SOAP 1.1 request envelope strictly, token by
// token, and returns its operation and input. Errors are web.MalformedBody
// (the message is not a well-formed, valid envelope),
// soap:VersionMismatch and soap:MustUnderstand protocol errors, or bourse
// KindInvalid errors (a field's value has the wrong type). req.operation is
// set as soon as the Body's element is recognised, even when a later error
// follows. Nothing returned refers to data.
func decodeEnvelope(data []byte) (req request, err error) {
	data = bytes.TrimPrefix(data, bom)
	p := parserPool.Get().(*parser)
	defer p.release()
	p.s.reset(data)
	p.depth, p.elements, p.tokens = 0, 0, 0
	if err := p.root(); err != nil {
		return req, err
	}
	if err := checkEnvelope(p.s.name); err != nil {
		return req, err
	}
	if err := p.envelope(&req); err != nil {
		return req, err
	}
	return req, p.epilog()
}

// parser reads one envelope, counting depth and elements.
type parser struct {
	s        scanner
	depth    int
	elements int
	tokens   int
	text     []byte // a field's text, reused
	ids      []byte // consulterBoursiers: its identifiers' text, back to back
	idEnds   []int  // where each ends in ids
}

// parserPool keeps parsers, whose slices grow to what an envelope needs.
var parserPool = sync.Pool{New: func() any { return new(parser) }}

func (p *parser) release() {
	p.s.release()
	if cap(p.text) > maxPooled || cap(p.ids) > maxPooled {
		p.text, p.ids = nil, nil
	}
	parserPool.Put(p)
}

func malformed(format string, args ...any) error {
	return web.Errorf(web.MalformedBody, fmt.Sprintf(format, args...))
}

// next reads the next token that matters into p.s: comments are skipped,
// a DOCTYPE, any other directive and processing instructions are refused
// (SOAP 1.1 §3), and the bounds are enforced.
func (p *parser) next() (tokKind, error) {
	for {
		k, err := p.s.next()
		if err != nil {
			return 0, p.syntax(err)
		}
		p.tokens++
		switch k {
		case tokStart:
			p.depth++
			p.elements++
			switch {
			case p.depth > maxDepth:
				return 0, malformed("elements nested deeper than %d levels", maxDepth)
			case p.elements > maxElements:
				return 0, malformed("more than %d elements", maxElements)
			}
			at := p.s.attrs
			for i := 1; i < len(at); i++ {
				for j := 0; j < i; j++ {
					if bytes.Equal(at[i].name.local, at[j].name.local) && bytes.Equal(at[i].name.space, at[j].name.space) {
						return 0, malformed("element %s has the attribute %s twice", qname(p.s.name.xmlName()), qname(at[i].name.xmlName()))
					}
				}
			}
		case tokEnd:
			p.depth--
		case tokComment:
			continue
		case tokDirective:
			if bytes.HasPrefix(p.s.text, []byte("DOCTYPE")) {
				return 0, malformed("a DOCTYPE is not allowed in a SOAP message")
			}
			return 0, malformed("an XML directive <!...> is not allowed in a SOAP message")
		case tokProcInst:
			if string(p.s.target) == "xml" {
				if p.tokens == 1 {
					continue
				}
				return 0, malformed("the XML declaration <?xml ...?> must open the document")
			}
			return 0, malformed("processing instruction <?%s ...?> is not allowed in a SOAP message", p.s.target)
		}
		return k, nil
	}
}

// syntax turns a scanner error into a MalformedBody error that says what
// and where; io.EOF passes.
func (p *parser) syntax(err error) error {
	if err == io.EOF {
		return err
	}
	var xe *xmlError
	if !errors.As(err, &xe) {
		return malformed("malformed XML")
	}
	switch {
	case xe.enc != "":
		return malformed("the XML declaration names the encoding %s: this service reads UTF-8 only", quoteEnc(xe.enc))
	case xe.limit:
		return malformed("%s", xe.msg)
	}
	return malformed("malformed XML, line %d: %s", xe.line(p.s.data), xe.msg)
}

// root reads up to the document's root element.
func (p *parser) root() error {
	for {
		k, err := p.next()
		if err == io.EOF {
			return malformed("the body holds no XML element: want a SOAP 1.1 envelope")
		}
		if err != nil {
			return err
		}
		switch k {
		case tokStart:
			return nil
		case tokText:
			if !isSpace(p.s.text) {
				return malformed("text before the root element: want a SOAP 1.1 envelope")
			}
		}
	}
}

// checkEnvelope accepts SOAP 1.1's Envelope. An Envelope of another
// namespace is a VersionMismatch (SOAP 1.1 §4.4.1), SOAP 1.2's included.
func checkEnvelope(n qn) error {
	switch {
	case string(n.local) != "Envelope":
		return malformed("the root element is %s: want soap:Envelope in namespace %s (SOAP 1.1)", qname(n.xmlName()), nsSOAP11)
	case string(n.space) == nsSOAP11:
		return nil
	case string(n.space) == nsSOAP12:
		return versionMismatch(web.MalformedBody, "SOAP 1.2 envelope (namespace "+nsSOAP12+"): this service speaks SOAP 1.1, namespace "+nsSOAP11)
	case len(n.space) == 0:
		return versionMismatch(web.MalformedBody, "the Envelope has no namespace: want SOAP 1.1's "+nsSOAP11)
	default:
		return versionMismatch(web.MalformedBody, "the Envelope is in "+nsText(string(n.space))+": want SOAP 1.1's namespace "+nsSOAP11)
	}
}

// isSOAP tells whether n is the SOAP 1.1 element local.
func isSOAP(n qn, local string) bool { return n.is(nsSOAP11, local) }

// eof reports a document that ends inside an element. A strict decoder
// says "unexpected EOF" itself; this is the safety net.
func eof(err error, where string) error {
	if err == io.EOF {
		return malformed("the document ends inside %s", where)
	}
	return err
}

// envelope reads the Envelope's children: an optional Header, then one
// Body, and nothing after it (WS-I BP R1011).
func (p *parser) envelope(req *request) error {
	seenHeader, seenBody := false, false
	for {
		k, err := p.next()
		if err != nil {
			return eof(err, "soap:Envelope")
		}
		switch k {
		case tokStart:
			switch n := p.s.name; {
			case isSOAP(n, "Header"):
				if seenBody {
					return malformed("soap:Header after soap:Body: the Header comes first")
				}
				if seenHeader {
					return malformed("two soap:Header elements: an envelope has at most one")
				}
				seenHeader = true
				if err := p.header(); err != nil {
					return err
				}
			case isSOAP(n, "Body"):
				if seenBody {
					return malformed("two soap:Body elements: an envelope has exactly one")
				}
				seenBody = true
				if err := p.body(req); err != nil {
					return err
				}
			case seenBody:
				return malformed("element %s after soap:Body: nothing may follow the Body", qname(n.xmlName()))
			default:
				return malformed("unexpected element %s in soap:Envelope: want an optional soap:Header, then soap:Body", qname(n.xmlName()))
			}
		case tokText:
			if !isSpace(p.s.text) {
				return malformed("text in soap:Envelope: it holds only soap:Header and soap:Body")
			}
		case tokEnd:
			if !seenBody {
				return malformed("soap:Body is missing")
			}
			return nil
		}
	}
}

// header reads the Header: a block this service must understand is refused
// with soap:MustUnderstand (it understands none); the others are skipped.
func (p *parser) header() error {
	for {
		k, err := p.next()
		if err != nil {
			return eof(err, "soap:Header")
		}
		switch k {
		case tokStart:
			mu, err := mustUnderstand(p.s.name, p.s.attrs)
			if err != nil {
				return err
			}
			if mu {
				return &protocolError{code: codeMustUnderstand, err: web.Errorf(web.MalformedBody,
					"header block "+qname(p.s.name.xmlName())+` has soap:mustUnderstand="1": this service understands no header block`)}
			}
			if err := p.skip(); err != nil {
				return err
			}
		case tokText:
			if !isSpace(p.s.text) {
				return malformed("text in soap:Header: it holds only header blocks")
			}
		case tokEnd:
			return nil
		}
	}
}

// mustUnderstand tells whether the header block t must be understood by
// this service: soap:mustUnderstand="1" and no soap:actor, or the "next"
// actor (SOAP 1.1 §4.2.2).
func mustUnderstand(name qn, attrs []attr) (bool, error) {
	mu, forUs := false, true
	for _, a := range attrs {
		if string(a.name.space) != nsSOAP11 {
			continue
		}
		v := trimSpaceBytes(a.value)
		switch string(a.name.local) {
		case "mustUnderstand":
			switch string(v) {
			case "1", "true":
				mu = true
			case "0", "false":
			default:
				return false, malformed(`header block %s: soap:mustUnderstand must be "0" or "1"`, qname(name.xmlName()))
			}
		case "actor":
			forUs = len(v) == 0 || string(v) == actorNext
		}
	}
	return mu && forUs, nil
}

// skip reads past the end of the element just started.
func (p *parser) skip() error {
	depth := p.depth
	for p.depth >= depth {
		if _, err := p.next(); err != nil {
			return eof(err, "a header block")
		}
	}
	return nil
}

// operations names the operations for a message.
const operations = opLookup + " or " + opLookupBatch

// body reads the Body: exactly one element, the operation's, dispatched on
// its qualified name.
func (p *parser) body(req *request) error {
	found := false
	for {
		k, err := p.next()
		if err != nil {
			return eof(err, "soap:Body")
		}
		switch k {
		case tokStart:
			if found {
				return malformed("soap:Body holds more than one element: a request holds exactly one, %s", operations)
			}
			found = true
			switch n := p.s.name; {
			case n.is(nsService, opLookup):
				req.operation = opLookup
				err = p.consulterBoursier(&req.saisie)
			case n.is(nsService, opLookupBatch):
				req.operation = opLookupBatch
				err = p.consulterBoursiers(&req.batch)
			default:
				err = unknownOperation(n)
			}
			if err != nil {
				return err
			}
		case tokText:
			if !isSpace(p.s.text) {
				return malformed("text in soap:Body: it must hold one element, %s", operations)
			}
		case tokEnd:
			if !found {
				return malformed("soap:Body is empty: it must hold one element, %s, in namespace %s", operations, nsService)
			}
			return nil
		}
	}
}

func unknownOperation(n qn) error {
	local := string(n.local)
	switch {
	case local != opLookup && local != opLookupBatch:
		return malformed("unknown operation %s: this service offers %s, in namespace %s", qname(n.xmlName()), operations, nsService)
	case len(n.space) == 0:
		return malformed("%s has no namespace: the operation's element is in namespace %s", local, nsService)
	default:
		return malformed("%s is in %s: the operation's element is in namespace %s", local, nsText(string(n.space)), nsService)
	}
}

// consulterBoursier reads the operation's fields into s. Their order is
// free; each may appear once; an empty element and xsi:nil="true" are
// absent (node-soap sends both).
func (p *parser) consulterBoursier(s *bourse.Saisie) error {
	var seen uint8
	for {
		k, err := p.next()
		if err != nil {
			return eof(err, opLookup)
		}
		switch k {
		case tokStart:
			f, err := field(p.s.name, opLookup, fieldIndex, fieldList)
			if err != nil {
				return err
			}
			name := fieldNames[f]
			if seen&(1<<f) != 0 {
				return malformed("element %s appears twice in %s", name, opLookup)
			}
			seen |= 1 << f
			text, isNil, err := p.value(name)
			if err != nil {
				return err
			}
			if isNil {
				continue
			}
			if err := assign(s, f, text); err != nil {
				return err
			}
		case tokText:
			if !isSpace(p.s.text) {
				return malformed("text directly in %s: the values go in its child elements", opLookup)
			}
		case tokEnd:
			return nil
		}
	}
}

// The fields of consulterBoursiers, in the WSDL's order.
const (
	lAnnee = iota
	lCodeEtablissement
	lIdentifiant
)

var batchFieldNames = [...]string{"anneeUniversitaire", "codeEtablissement", "identifiant"}

const batchFieldList = "anneeUniversitaire, codeEtablissement or identifiant"

func batchFieldIndex(local []byte) int {
	switch string(local) {
	case "anneeUniversitaire":
		return lAnnee
	case "codeEtablissement":
		return lCodeEtablissement
	case "identifiant":
		return lIdentifiant
	}
	return -1
}

// consulterBoursiers reads the batch's fields into l: identifiant 1 to
// bourse.MaxBatch times, in order, the other fields at most once, anywhere.
// An empty or nil identifiant keeps its place (the domain answers it with
// an error), so that the answers stay in the request's order; an empty or
// nil anneeUniversitaire or codeEtablissement is absent.
func (p *parser) consulterBoursiers(l *bourse.Batch) error {
	var seen uint8
	p.ids, p.idEnds = p.ids[:0], p.idEnds[:0]
	for {
		k, err := p.next()
		if err != nil {
			return eof(err, opLookupBatch)
		}
		switch k {
		case tokStart:
			f, err := field(p.s.name, opLookupBatch, batchFieldIndex, batchFieldList)
			if err != nil {
				return err
			}
			name := batchFieldNames[f]
			if f == lIdentifiant {
				// Bounded by MaxBatch, not by maxElements.
				p.elements--
				if len(p.idEnds) == bourse.MaxBatch {
					return bourse.Invalid("identifiant", "at most %d identifiant elements per batch", bourse.MaxBatch)
				}
			} else if seen&(1<<f) != 0 {
				return malformed("element %s appears twice in %s", name, opLookupBatch)
			}
			seen |= 1 << f
			text, isNil, err := p.value(name)
			if err != nil {
				return err
			}
			switch {
			case f == lIdentifiant:
				if !isNil {
					p.ids = append(p.ids, trimSpaceBytes(text)...)
				}
				p.idEnds = append(p.idEnds, len(p.ids))
			case isNil:
			case f == lAnnee:
				if text = trimSpaceBytes(text); len(text) > 0 {
					if l.Annee, err = parseAnnee(text); err != nil {
						return err
					}
				}
			case f == lCodeEtablissement:
				if text = trimSpaceBytes(text); len(text) > 0 {
					l.CodeEtablissement = string(text)
				}
			}
		case tokText:
			if !isSpace(p.s.text) {
				return malformed("text directly in %s: the values go in its child elements", opLookupBatch)
			}
		case tokEnd:
			if len(p.idEnds) == 0 {
				return bourse.Invalid("identifiant", "required: a batch holds 1 to %d identifiant elements", bourse.MaxBatch)
			}
			// One string for all the identifiers.
			all, start := string(p.ids), 0
			l.Identifiants = make([]string, len(p.idEnds))
			for i, end := range p.idEnds {
				l.Identifiants[i] = all[start:end]
				start = end
			}
			return nil
		}
	}
}

// field returns the field element n of operation op names; index and list
// are the operation's fields.
func field(n qn, op string, index func([]byte) int, list string) (int, error) {
	f := index(n.local)
	switch {
	case f < 0:
		return 0, malformed("unknown element %s in %s: want %s", qname(n.xmlName()), op, list)
	case string(n.space) == nsService:
		return f, nil
	case len(n.space) == 0:
		return 0, malformed(`element %s has no namespace: the children of %s are in namespace %s (elementFormDefault="qualified")`,
			n.local, op, nsService)
	default:
		return 0, malformed("element %s is in %s: the children of %s are in namespace %s",
			n.local, nsText(string(n.space)), op, nsService)
	}
}

// value reads the field element just started: its text, and whether it has
// xsi:nil="true", which it then must hold no text with.
func (p *parser) value(name string) (text []byte, isNil bool, err error) {
	isNil, err = xsiNil(p.s.attrs, name)
	if err != nil {
		return nil, false, err
	}
	text, err = p.readText(name)
	if err != nil {
		return nil, false, err
	}
	if isNil && !isSpace(text) {
		return nil, false, malformed(`element %s has xsi:nil="true" and a value: send one or the other`, name)
	}
	return text, isNil, nil
}

// xsiNil reads the xsi:nil attribute of the element just started.
func xsiNil(attrs []attr, name string) (bool, error) {
	for _, a := range attrs {
		if a.name.is(nsXSI, "nil") {
			switch string(trimSpaceBytes(a.value)) {
			case "true", "1":
				return true, nil
			case "false", "0":
				return false, nil
			}
			return false, malformed(`element %s: xsi:nil must be "true" or "false"`, name)
		}
	}
	return false, nil
}

// readText returns the text of the field element just started, which must
// hold no element. The slice is valid until the next call.
func (p *parser) readText(name string) ([]byte, error) {
	p.text = p.text[:0]
	for {
		k, err := p.next()
		if err != nil {
			return nil, eof(err, name)
		}
		switch k {
		case tokText:
			p.text = append(p.text, p.s.text...)
		case tokStart:
			return nil, malformed("element %s must hold text, not the element %s", name, qname(p.s.name.xmlName()))
		case tokEnd:
			return p.text, nil
		}
	}
}

// assign sets field f of s from its text, without the XML white space
// around it (a pretty-printed envelope puts line breaks there). Strings go
// as sent otherwise: the domain normalises and checks them;
// anneeUniversitaire must be an xs:int and dateNaissance an xs:date, whose
// optional time zone is ignored.
func assign(s *bourse.Saisie, f int, text []byte) error {
	text = trimSpaceBytes(text)
	if len(text) == 0 {
		return nil // empty: absent
	}
	switch f {
	case fIdentifiant:
		s.Identifiant = string(text)
	case fCodeEtablissement:
		s.CodeEtablissement = string(text)
	case fNom:
		s.Nom = string(text)
	case fPrenom:
		s.Prenom = string(text)
	case fAnnee:
		n, err := parseAnnee(text)
		if err != nil {
			return err
		}
		s.Annee = n
	case fDateNaissance:
		d, ok := parseDate(text)
		if !ok {
			return bourse.Invalid("dateNaissance", "must be a date YYYY-MM-DD (xs:date)")
		}
		s.DateNaissance = d
	}
	return nil
}

// parseAnnee reads an xs:int that must be a year. Out of range values the
// domain refuses itself, except those it would read as "no year" (0) or
// that overflow.
func parseAnnee(t []byte) (int, error) {
	i, neg := 0, false
	if t[0] == '+' || t[0] == '-' {
		neg, i = t[0] == '-', 1
	}
	if i == len(t) {
		return 0, bourse.Invalid("anneeUniversitaire", "must be an integer (xs:int), e.g. 2025")
	}
	n, big := 0, false
	for ; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return 0, bourse.Invalid("anneeUniversitaire", "must be an integer (xs:int), e.g. 2025")
		}
		if n < 1_000_000 {
			n = n*10 + int(c-'0')
		} else {
			big = true
		}
	}
	if neg || big || n == 0 {
		return 0, bourse.ValidateAnnee("anneeUniversitaire", 0) // negative, zero or overflowing: out of range
	}
	return n, nil
}

// parseDate checks the lexical form of an xs:date of a four-digit year,
// YYYY-MM-DD with an optional Z or ±hh:mm, and returns its YYYY-MM-DD. The
// calendar (month 13, 30 February) is the domain's to check.
func parseDate(t []byte) (string, bool) {
	if len(t) < 10 || t[4] != '-' || t[7] != '-' || !digits(t[0:4]) || !digits(t[5:7]) || !digits(t[8:10]) {
		return "", false
	}
	switch tz := t[10:]; {
	case len(tz) == 0, len(tz) == 1 && tz[0] == 'Z':
	case len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && digits(tz[1:3]) && tz[3] == ':' && digits(tz[4:6]):
	default:
		return "", false
	}
	return string(t[:10]), true
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isSpace tells whether b holds XML white space only (or nothing).
func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// trimSpaceBytes trims XML white space (not Unicode's) around b.
func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && isSpaceByte(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpaceByte(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// qname writes a name for a message: soap:Body's style for the SOAP
// namespace, local (namespace "…") otherwise.
func qname(n xml.Name) string {
	local := clip(n.Local, maxEcho)
	switch n.Space {
	case "":
		return local
	case nsSOAP11:
		return "soap:" + local
	case nsService:
		return local
	}
	return local + " (" + nsText(n.Space) + ")"
}

// nsText names a namespace for a message. encoding/xml leaves an
// undeclared prefix in Name.Space; a namespace name is a URI, which has a
// colon, so a space without one is such a prefix.
func nsText(space string) string {
	if !strings.Contains(space, ":") {
		return "undeclared prefix " + quote(clip(space, 100))
	}
	return "namespace " + quote(clip(space, 100))
}

// epilog reads what follows the Envelope: white space and comments only,
// no second root and no trailing garbage.
func (p *parser) epilog() error {
	for {
		k, err := p.s.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var xe *xmlError
			if errors.As(err, &xe) && xe.enc == "" && !xe.limit {
				return malformed("content after the end of soap:Envelope is not XML (line %d: %s)", xe.line(p.s.data), xe.msg)
			}
			return p.syntax(err)
		}
		switch k {
		case tokStart:
			return malformed("a second root element %s after soap:Envelope: a message has one", qname(p.s.name.xmlName()))
		case tokText:
			if !isSpace(p.s.text) {
				return malformed("text after the end of soap:Envelope")
			}
		case tokComment:
		default:
			return malformed("markup after the end of soap:Envelope")
		}
	}
}
