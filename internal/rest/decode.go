package rest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Request bodies are decoded by the JSON v2 package, which is strict where
// encoding/json is not: member names match exactly, duplicated names,
// invalid UTF-8 and lone surrogates are refused, and it stops at the first
// error, so that a body of 64 KB costs at most one pass of validation. What
// is left here is saying precisely what is wrong, from its errors: the
// offset of a syntax error, the field and the rule otherwise, and a
// suggestion for a field name that is close to a known one.

// consultationBody is the body of POST /v1/consultations. null is the same
// as an absent field.
type consultationBody struct {
	Identifiant       string    `json:"identifiant"`
	Annee             yearValue `json:"anneeUniversitaire"`
	CodeEtablissement string    `json:"codeEtablissement"`
	Nom               string    `json:"nom"`
	Prenom            string    `json:"prenom"`
	DateNaissance     string    `json:"dateNaissance"`
}

// objectShape describes a JSON object body to decodeObject, for its errors.
type objectShape struct {
	fields  []string       // the field names, in the order of the SPEC
	aliases map[string]int // names callers plausibly send, folded, to an index of fields
	example string         // a valid body, shown when the body is empty
	// want names the type a field must have, for a wrong-typed value at ptr.
	want func(ptr jsontext.Pointer) string
}

var consultationShape = &objectShape{
	fields: []string{"identifiant", "anneeUniversitaire", "codeEtablissement", "nom", "prenom", "dateNaissance"},
	aliases: map[string]int{
		"ine": 0, "nne": 0, "numeroboursier": 0, "numerodossier": 0, "id": 0,
		"annee": 1, "anneeuniv": 1, "year": 1,
		"uai": 2, "codeuai": 2, "etablissement": 2,
		"nomdefamille": 3, "nomusage": 3, "lastname": 3,
		"firstname": 4, "prenoms": 4,
		"datedenaissance": 5, "naissance": 5, "birthdate": 5,
	},
	example: `{"identifiant":"1111037734L","anneeUniversitaire":2025}`,
	want:    func(jsontext.Pointer) string { return "a string" },
}

// bodyJSON are the options of every request body: unknown members refused
// (duplicated names and invalid UTF-8 are refused by default).
var bodyJSON = json.JoinOptions(json.RejectUnknownMembers(true))

// decodeConsultation decodes the body of POST /v1/consultations.
func decodeConsultation(body []byte) (bourse.Saisie, error) {
	var b consultationBody
	if err := decodeObject(body, &b, consultationShape); err != nil {
		return bourse.Saisie{}, err
	}
	return bourse.Saisie{Identifiant: b.Identifiant, Annee: int(b.Annee), CodeEtablissement: b.CodeEtablissement,
		Nom: b.Nom, Prenom: b.Prenom, DateNaissance: b.DateNaissance}, nil
}

// yearValue is anneeUniversitaire in a body: an integer year, or null (=
// absent, the current year). 0 is refused rather than taken for absent.
type yearValue int

// UnmarshalJSONFrom reads the year, refusing a string, a fraction, 0 and
// anything out of range with a message that says so.
func (y *yearValue) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	const field = "anneeUniversitaire"
	switch v.Kind() {
	case 'n':
		*y = 0
		return nil
	case '0':
		s := string(v)
		if strings.ContainsAny(s, ".eE") {
			return bourse.Invalid(field, "must be an integer (a year such as 2025), not %s", clip(s))
		}
		n, ok := year(s)
		if !ok {
			return bourse.ValidateAnnee(field, 0) // zero, or too large for an int
		}
		*y = yearValue(n)
		return nil
	case '"':
		var s string
		_ = json.Unmarshal(v, &s)
		hint := ""
		if _, ok := year(s); ok {
			hint = " (write " + s + ", without quotes)"
		}
		return bourse.Invalid(field, "must be an integer (a year such as 2025), not a string%s", hint)
	}
	return bourse.Invalid(field, "must be an integer (a year such as 2025), not %s", kindName(v.Kind()))
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

// decodeObject decodes body, a JSON object described by shape, into v. A
// syntax error is a web.MalformedBody error giving the offset (bytes from
// the start of the body, counting from 0); a well-formed body with an
// unknown field, a field of the wrong type or a field given twice is an
// invalid-input error naming the field. The first error is reported: a
// hostile body costs at most one pass, however many errors it holds.
func decodeObject(body []byte, v any, shape *objectShape) error {
	start := skipSpace(body, 0)
	if start == len(body) {
		return web.Errorf(web.MalformedBody, "the body is empty: send a JSON object such as "+shape.example)
	}
	// RFC 8259 §8.1 lets a parser ignore a byte order mark; Windows tools
	// (Notepad, PowerShell) write one, and refusing it helps no one.
	base := 0
	if len(body) >= len(utf8BOM) && string(body[:len(utf8BOM)]) == utf8BOM {
		base = len(utf8BOM)
		if start = skipSpace(body, base); start == len(body) {
			return web.Errorf(web.MalformedBody, "the body holds only a byte order mark: send a JSON object")
		}
	}
	if c := body[start]; c != '{' {
		// The decoder would take null for an empty object.
		if k := kindName(jsontext.Kind(c)); k != "" && utf8.Valid(body) {
			return web.Errorf(web.MalformedBody, "the body must be a JSON object {...}, not "+k)
		}
	}
	err := json.Unmarshal(body[base:], v, bodyJSON)
	if err == nil {
		return nil
	}
	return shape.explain(body, base, err)
}

// explain turns an error of the decoder on body[base:] into the error the
// caller gets.
func (shape *objectShape) explain(body []byte, base int, err error) error {
	var sy *jsontext.SyntacticError
	var be *bourse.Error
	var se *json.SemanticError
	switch {
	case errors.As(err, &sy):
		off := base + int(sy.ByteOffset)
		if errors.Is(sy.Err, jsontext.ErrDuplicateName) {
			return bourse.Invalid(clip(sy.JSONPointer.LastToken()), "given more than once (at offset %d)", off)
		}
		return syntaxError(body, off, sy.Err)
	case errors.As(err, &be):
		return be
	case errors.As(err, &se):
		if errors.Is(se.Err, json.ErrUnknownName) {
			return web.Errorf(web.InvalidInput, shape.unknownField(se.JSONPointer.LastToken()))
		}
		field := strings.TrimPrefix(string(se.JSONPointer), "/")
		if field == "" {
			return web.Errorf(web.MalformedBody, "the body must be a JSON object {...}")
		}
		if k := kindName(se.JSONKind); k != "" {
			return bourse.Invalid(clip(field), "must be %s, not %s", shape.want(se.JSONPointer), k)
		}
		return bourse.Invalid(clip(field), "must be %s", shape.want(se.JSONPointer))
	}
	return web.Errorf(web.MalformedBody, "the body is not a valid JSON object")
}

// syntaxError is the malformed-body error for a syntax error cause at
// offset off of body.
func syntaxError(body []byte, off int, cause error) error {
	if bad := invalidUTF8(body); bad < len(body) && bad <= off {
		return malformed(bad, "invalid UTF-8: the body must be encoded in UTF-8")
	}
	switch {
	case errors.Is(cause, io.ErrUnexpectedEOF):
		return malformed(len(body), "unexpected end of the body: the JSON object is incomplete")
	case off < len(body) && jsontext.Value(body[:off]).IsValid(jsontext.AllowDuplicateNames(true)):
		// The object ended before off: more follows it.
		return malformed(skipSpace(body, off), "unexpected data after the JSON object: send exactly one object")
	case off < len(body) && body[off] == ',':
		if next := skipSpace(body, off+1); next < len(body) && (body[next] == '}' || body[next] == ']') {
			return malformed(off, "a comma before '"+string(body[next])+"': remove the trailing comma")
		}
	}
	return malformed(off, cause.Error())
}

func malformed(off int, msg string) error {
	return web.Errorf(web.MalformedBody, "malformed JSON at offset "+strconv.Itoa(off)+": "+msg)
}

// skipSpace returns the offset of the first byte of body from i that is
// not JSON whitespace.
func skipSpace(body []byte, i int) int {
	for i < len(body) {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// kindName names a JSON kind for a message, "" if it names no value.
func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '0', '-', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return ""
}

// invalidUTF8 returns the offset of the first byte of b that is not valid
// UTF-8, len(b) if there is none.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return len(b)
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// unknownField is the detail of an unknown field: a suggestion when the
// name is close to a known one (case, separators, a typo or two, a common
// synonym), and the list of accepted fields otherwise.
func (shape *objectShape) unknownField(key string) string {
	msg := "unknown field " + quote(clip(key))
	folded := fold(key)
	for _, name := range shape.fields {
		if strings.EqualFold(key, name) {
			return msg + ": field names are case-sensitive, did you mean " + quote(name) + "?"
		}
		if folded == fold(name) {
			return msg + ": did you mean " + quote(name) + "?"
		}
	}
	if f, ok := shape.aliases[folded]; ok {
		return msg + ": did you mean " + quote(shape.fields[f]) + "?"
	}
	best, bestD := -1, 3
	if len(folded) <= 4 {
		bestD = 2
	}
	for f, name := range shape.fields {
		if d := distance(folded, fold(name)); d < bestD {
			best, bestD = f, d
		}
	}
	if best >= 0 {
		return msg + ": did you mean " + quote(shape.fields[best]) + "?"
	}
	return msg + "; the accepted fields are " + strings.Join(shape.fields, ", ")
}

// fold lower-cases ASCII letters and drops '_', '-', '.' and spaces, so
// that date_naissance and DateNaissance meet dateNaissance. It keeps at
// most 64 bytes.
func fold(s string) string {
	b := make([]byte, 0, min(len(s), 64))
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
