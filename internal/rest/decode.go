package rest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// The body of POST /v1/consultations is read by a small hand-written
// parser rather than encoding/json, which cannot be made strict enough:
// it matches field names case-insensitively, replaces invalid UTF-8 and
// lone surrogates with U+FFFD, keeps the last of duplicated fields, and its
// errors name Go types. The parser below accepts exactly one JSON object
// (RFC 8259) of the six known fields, each a string (anneeUniversitaire:
// an integer) or null (= absent), and says precisely what is wrong: the
// offset of a syntax error, the field and the rule otherwise.

// The fields of the body, in the order of the SPEC.
const (
	fIdentifiant = iota
	fAnnee
	fCodeEtablissement
	fNom
	fPrenom
	fDateNaissance
	nFields
)

var fieldNames = [nFields]string{"identifiant", "anneeUniversitaire", "codeEtablissement", "nom", "prenom", "dateNaissance"}

const acceptedFields = "identifiant, anneeUniversitaire, codeEtablissement, nom, prenom, dateNaissance"

// aliases are names callers plausibly send for a field, mapped to it.
var aliases = map[string]int{
	"ine": fIdentifiant, "nne": fIdentifiant, "numeroboursier": fIdentifiant, "numerodossier": fIdentifiant,
	"id": fIdentifiant, "annee": fAnnee, "anneeuniv": fAnnee, "year": fAnnee, "uai": fCodeEtablissement,
	"codeuai": fCodeEtablissement, "etablissement": fCodeEtablissement, "datedenaissance": fDateNaissance,
	"naissance": fDateNaissance, "birthdate": fDateNaissance, "nomdefamille": fNom, "nomusage": fNom,
	"lastname": fNom, "firstname": fPrenom, "prenoms": fPrenom,
}

// maxDepth bounds the nesting of values the parser skips (a wrong-typed
// field holding an array of arrays...).
const maxDepth = 32

// Media types of the body.
const (
	mediaJSON = "application/json"
	utf8BOM   = "\xef\xbb\xbf"
)

// checkContentType accepts application/json, with no charset or
// charset=utf-8 (RFC 8259 §8.1: JSON is UTF-8), and no content coding.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return web.Errorf(web.UnsupportedMedia, "Content-Encoding "+quote(clip(ce))+" is not supported: send the body uncompressed")
	}
	if strings.EqualFold(ct, mediaJSON) || strings.EqualFold(ct, "application/json; charset=utf-8") || strings.EqualFold(ct, "application/json;charset=utf-8") {
		return nil
	}
	if strings.TrimSpace(ct) == "" {
		return web.Errorf(web.UnsupportedMedia, "the Content-Type header is missing: send the body as application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return web.Errorf(web.UnsupportedMedia, "the Content-Type header is malformed: send the body as application/json")
	}
	if mt != mediaJSON {
		return web.Errorf(web.UnsupportedMedia, "Content-Type "+quote(clip(mt))+" is not supported: send the body as application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return web.Errorf(web.UnsupportedMedia, "charset "+quote(clip(cs))+" is not supported: JSON is sent in UTF-8 (charset=utf-8, or no charset)")
	}
	return nil
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// putBody returns a body buffer to the pool, unless it grew large.
func putBody(p *[]byte) {
	if cap(*p) <= 16<<10 {
		bodyPool.Put(p)
	}
}

// readBody reads the whole body into a pooled buffer; put it back with
// putBody once nothing refers to its bytes. A body over the limit set
// by web.LimitBody fails with *http.MaxBytesError.
func readBody(r *http.Request) (*[]byte, error) {
	p := bodyPool.Get().(*[]byte)
	b := (*p)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*p = b
			putBody(p)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, err
			}
			return nil, web.Errorf(web.MalformedBody, "the request body could not be read completely")
		}
	}
	*p = b
	return p, nil
}

// decodeConsultation parses the body of POST /v1/consultations. A syntax
// error is a web.MalformedBody error giving the offset (bytes from the
// start of the body, counting from 0); a well-formed body with an unknown
// field, a field of the wrong type or a field given twice is an
// invalid-input error naming the field. Syntax errors win: the whole body
// is checked before any other error is reported.
//
// body is a string so that the values, unless they hold escapes, are
// substrings of it rather than copies.
func decodeConsultation(body string) (bourse.Saisie, error) {
	var s bourse.Saisie
	p := parser{b: body}
	if p.ws(); p.i == len(body) {
		return s, web.Errorf(web.MalformedBody, `the body is empty: send a JSON object such as {"identifiant":"1111037734L","anneeUniversitaire":2025}`)
	}
	p.i = 0
	if !utf8.ValidString(body) {
		return s, p.syntax(invalidUTF8(body), "invalid UTF-8: the body must be encoded in UTF-8")
	}
	// RFC 8259 §8.1 lets a parser ignore a byte order mark; Windows tools
	// (Notepad, PowerShell) write one, and refusing it helps no one.
	if strings.HasPrefix(body, utf8BOM) {
		p.i = len(utf8BOM)
	}
	p.ws()
	if p.i >= len(p.b) {
		return s, web.Errorf(web.MalformedBody, "the body holds only a byte order mark: send a JSON object")
	}
	if c := p.b[p.i]; c != '{' {
		if k := kindOfValue(c); k != "" {
			return s, web.Errorf(web.MalformedBody, "the body must be a JSON object {...}, not "+k)
		}
		return s, p.unexpected("expected a JSON object {...}")
	}
	p.i++
	var seen [nFields]bool
	var vals [nFields]string
	first := true
	for {
		p.ws()
		if p.i >= len(p.b) {
			return s, p.eof()
		}
		if first && p.b[p.i] == '}' {
			p.i++
			break
		}
		if p.b[p.i] != '"' {
			if first {
				return s, p.unexpected(`expected a field name in double quotes or '}'`)
			}
			return s, p.unexpected(`expected a field name in double quotes`)
		}
		keyAt := p.i
		key, err := p.str()
		if err != nil {
			return s, err
		}
		p.ws()
		if p.i >= len(p.b) {
			return s, p.eof()
		}
		if p.b[p.i] != ':' {
			return s, p.unexpected("expected ':' after the field name")
		}
		p.i++
		p.ws()
		if p.i >= len(p.b) {
			return s, p.eof()
		}
		f := fieldIndex(key)
		switch {
		case f < 0:
			p.fail(web.Errorf(web.InvalidInput, unknownField(key)))
			if err := p.skip(0); err != nil {
				return s, err
			}
		case seen[f]:
			p.fail(bourse.Invalid(fieldNames[f], "given more than once (at offset %d)", keyAt))
			if err := p.skip(0); err != nil {
				return s, err
			}
		default:
			seen[f] = true
			if err := p.field(f, &vals[f], &s.Annee); err != nil {
				return s, err
			}
		}
		first = false
		p.ws()
		if p.i >= len(p.b) {
			return s, p.eof()
		}
		if p.b[p.i] == ',' {
			p.i++
			continue
		}
		if p.b[p.i] == '}' {
			p.i++
			break
		}
		return s, p.unexpected("expected ',' or '}' after a field's value")
	}
	p.ws()
	if p.i < len(p.b) {
		return s, p.syntax(p.i, "unexpected data after the JSON object: send exactly one object")
	}
	if p.err != nil {
		return s, p.err
	}
	s.Identifiant = vals[fIdentifiant]
	s.CodeEtablissement = vals[fCodeEtablissement]
	s.Nom = vals[fNom]
	s.Prenom = vals[fPrenom]
	s.DateNaissance = vals[fDateNaissance]
	return s, nil
}

// parser is a cursor on a JSON body. err is the first error of content
// (invalid input), reported only if the body's syntax is right.
type parser struct {
	b   string
	i   int
	err error
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) syntax(off int, msg string) error {
	return web.Errorf(web.MalformedBody, "malformed JSON at offset "+strconv.Itoa(off)+": "+msg)
}

func (p *parser) eof() error {
	return p.syntax(len(p.b), "unexpected end of the body: the JSON object is incomplete")
}

// unexpected reports the byte at the cursor, which is not what expected.
func (p *parser) unexpected(expected string) error {
	if p.i >= len(p.b) {
		return p.eof()
	}
	return p.syntax(p.i, "unexpected "+describeByte(p.b, p.i)+", "+expected)
}

// field reads the value of field f into *str or, for the year, *annee.
func (p *parser) field(f int, str *string, annee *int) error {
	c := p.b[p.i]
	if c == 'n' {
		return p.literal("null") // null: as if absent
	}
	if f == fAnnee {
		if c == '-' || ('0' <= c && c <= '9') {
			start := p.i
			integer, err := p.number()
			if err != nil {
				return err
			}
			if !integer {
				p.fail(bourse.Invalid(fieldNames[f], "must be an integer (a year such as 2025), not %s", clip(p.b[start:p.i])))
				return nil
			}
			n, ok := year(p.b[start:p.i])
			if !ok {
				p.fail(bourse.Invalid(fieldNames[f], "must be a year between %d and %d", bourse.AnneeMin, bourse.AnneeMax))
				return nil
			}
			*annee = n
			return nil
		}
		if c == '"' {
			v, err := p.str()
			if err != nil {
				return err
			}
			hint := ""
			if _, ok := year(v); ok {
				hint = " (write " + v + ", without quotes)"
			}
			p.fail(bourse.Invalid(fieldNames[f], "must be an integer (a year such as 2025), not a string%s", hint))
			return nil
		}
		return p.wrongType(f, "an integer (a year such as 2025)")
	}
	if c == '"' {
		v, err := p.str()
		if err != nil {
			return err
		}
		*str = v
		return nil
	}
	return p.wrongType(f, "a string")
}

// wrongType records that field f is not of the type want, and skips its
// value.
func (p *parser) wrongType(f int, want string) error {
	k := kindOfValue(p.b[p.i])
	if k == "" {
		return p.unexpected("expected a value")
	}
	if err := p.skip(0); err != nil {
		return err
	}
	p.fail(bourse.Invalid(fieldNames[f], "must be %s, not %s", want, k))
	return nil
}

// year reads a JSON integer as an academic year; ok is false for 0 (which
// would mean "the current year") and for anything too large to be one.
func year(b string) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// skip checks and skips one JSON value of any type.
func (p *parser) skip(depth int) error {
	if p.i >= len(p.b) {
		return p.eof()
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, err := p.str()
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := p.number()
		return err
	case c == '[' || c == '{':
		if depth >= maxDepth {
			return p.syntax(p.i, "values nested more than "+strconv.Itoa(maxDepth)+" deep")
		}
		p.i++
		closing := byte(']')
		if c == '{' {
			closing = '}'
		}
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == closing {
			p.i++
			return nil
		}
		for {
			p.ws()
			if c == '{' {
				if p.i >= len(p.b) {
					return p.eof()
				}
				if p.b[p.i] != '"' {
					return p.unexpected("expected a field name in double quotes")
				}
				if _, err := p.str(); err != nil {
					return err
				}
				p.ws()
				if p.i >= len(p.b) {
					return p.eof()
				}
				if p.b[p.i] != ':' {
					return p.unexpected("expected ':' after the field name")
				}
				p.i++
				p.ws()
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.i >= len(p.b) {
				return p.eof()
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] == closing {
				p.i++
				return nil
			}
			return p.unexpected("expected ',' or '" + string(closing) + "'")
		}
	default:
		return p.unexpected("expected a value")
	}
}

func (p *parser) literal(lit string) error {
	if strings.HasPrefix(p.b[p.i:], lit) {
		p.i += len(lit)
		return nil
	}
	for j := 0; j < len(lit); j++ {
		if p.i+j >= len(p.b) {
			return p.eof()
		}
		if p.b[p.i+j] != lit[j] {
			p.i += j
			return p.unexpected("in the literal " + lit)
		}
	}
	return nil
}

// number checks a JSON number at the cursor and skips it; integer tells
// whether it has neither a fraction nor an exponent.
func (p *parser) number() (integer bool, err error) {
	integer = true
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i >= len(p.b):
		return false, p.eof()
	case p.b[p.i] == '0':
		p.i++
	case '1' <= p.b[p.i] && p.b[p.i] <= '9':
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
		}
	default:
		return false, p.unexpected("in a number: expected a digit")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		integer = false
		p.i++
		if err := p.digits(); err != nil {
			return false, err
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if err := p.digits(); err != nil {
			return false, err
		}
	}
	return integer, nil
}

func (p *parser) digits() error {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == start {
		return p.unexpected("in a number: expected a digit")
	}
	return nil
}

// str reads the JSON string at the cursor (an opening quote). The body is
// known to be valid UTF-8; escapes are decoded, and an escaped lone
// surrogate is refused.
func (p *parser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", p.syntax(p.i, "control character "+describeByte(p.b, p.i)+" in a string: escape it")
		}
		p.i++
	}
	return "", p.eof()
}

func (p *parser) strEscaped(start int) (string, error) {
	out := make([]byte, 0, p.i-start+16)
	out = append(out, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.syntax(p.i, "control character "+describeByte(p.b, p.i)+" in a string: escape it")
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		at := p.i
		p.i++
		if p.i >= len(p.b) {
			return "", p.eof()
		}
		switch e := p.b[p.i]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4(p.i + 1)
			if !ok {
				return "", p.syntax(at, `invalid \u escape: expected 4 hexadecimal digits`)
			}
			p.i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if p.i+2 < len(p.b) && p.b[p.i+1] == '\\' && p.b[p.i+2] == 'u' {
					r2, ok = p.hex4(p.i + 3)
				}
				r = utf16.DecodeRune(r, r2)
				if !ok || r == utf8.RuneError {
					return "", p.syntax(at, `invalid \u escape: an unpaired surrogate is not a character`)
				}
				p.i += 6
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.syntax(at, "invalid escape "+quote(`\`+string(rune(e)))+` in a string`)
		}
		p.i++
	}
	return "", p.eof()
}

func (p *parser) hex4(at int) (rune, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for i := at; i < at+4; i++ {
		switch c := p.b[i]; {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// kindOfValue names the JSON type a value starting with c has, "" if no
// value starts with c.
func kindOfValue(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || ('0' <= c && c <= '9'):
		return "a number"
	}
	return ""
}

// describeByte names the character at b[i] without echoing anything
// unprintable.
func describeByte(b string, i int) string {
	c := b[i]
	if c >= 0x20 && c < 0x7f {
		return "character " + strconv.QuoteRune(rune(c))
	}
	if c >= utf8.RuneSelf {
		if r, _ := utf8.DecodeRuneInString(b[i:]); r != utf8.RuneError {
			return "character U+" + strings.ToUpper(strconv.FormatInt(int64(r), 16))
		}
	}
	return "byte 0x" + string(hexDigits[c>>4]) + string(hexDigits[c&0xF])
}

// invalidUTF8 returns the offset of the first byte of b that is not valid
// UTF-8.
func invalidUTF8(b string) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRuneInString(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// fieldIndex returns the index of the field named exactly key, or -1.
func fieldIndex(key string) int {
	for f, name := range fieldNames {
		if key == name {
			return f
		}
	}
	return -1
}

// unknownField is the detail of an unknown field: a suggestion when the
// name is close to a known one (case, separators, a typo or two, a common
// synonym), and the list of accepted fields.
func unknownField(key string) string {
	msg := "unknown field " + quote(clip(key))
	folded := fold(key)
	for f, name := range fieldNames {
		if strings.EqualFold(key, name) {
			return msg + ": field names are case-sensitive, did you mean " + quote(name) + "?"
		}
		if folded == fold(name) {
			return msg + ": did you mean " + quote(fieldNames[f]) + "?"
		}
	}
	if f, ok := aliases[folded]; ok {
		return msg + ": did you mean " + quote(fieldNames[f]) + "?"
	}
	best, bestD := -1, 3
	if len(folded) <= 4 {
		bestD = 2
	}
	for f, name := range fieldNames {
		if d := distance(folded, fold(name)); d < bestD {
			best, bestD = f, d
		}
	}
	if best >= 0 {
		return msg + ": did you mean " + quote(fieldNames[best]) + "?"
	}
	return msg + "; the accepted fields are " + acceptedFields
}

// fold lower-cases ASCII letters and drops '_', '-', '.' and spaces, so
// that date_naissance and DateNaissance meet dateNaissance.
func fold(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		c := s[i]
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ':
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// clip shortens what a caller sent before it is echoed in a detail.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// quote writes s between double quotes, escaping what needs it.
func quote(s string) string { return strconv.Quote(s) }
