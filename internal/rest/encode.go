package rest

import (
	"strconv"
	"unicode/utf8"
)

// The answer and the problem are written by hand rather than through
// encoding/json: they are flat, their fields are known, and the lookup is
// the hot path. The output is byte for byte what json.Marshal writes for
// the same values (the tests check it), escapes included.

// appendReponse appends the JSON form of r, fields in the order of the
// Reponse struct, empty optional fields left out.
func appendReponse(b []byte, r Reponse) []byte {
	b = append(b, '{')
	if r.Identifiant != "" {
		b = append(b, `"identifiant":`...)
		b = appendString(b, r.Identifiant)
		b = append(b, ',')
	}
	b = append(b, `"anneeUniversitaire":`...)
	b = strconv.AppendInt(b, int64(r.AnneeUniversitaire), 10)
	b = append(b, `,"statut":`...)
	b = appendString(b, r.Statut)
	b = appendField(b, "typeDecision", r.TypeDecision)
	b = appendField(b, "echelon", r.Echelon)
	b = appendField(b, "numeroDossier", r.NumeroDossier)
	b = appendField(b, "correspondance", r.Correspondance)
	b = appendField(b, "identifiantAglae", r.IdentifiantAglae)
	b = appendField(b, "anomalie", r.Anomalie)
	return append(b, '}')
}

// problem is an RFC 9457 problem details object.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
}

// appendProblem appends the JSON form of p.
func appendProblem(b []byte, p problem) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, p.Type)
	b = append(b, `,"title":`...)
	b = appendString(b, p.Title)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(p.Status), 10)
	b = append(b, `,"detail":`...)
	b = appendString(b, p.Detail)
	b = appendField(b, "instance", p.Instance)
	return append(b, '}')
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// by default: quote, backslash and control characters; <, > and & (HTML
// safety); U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
