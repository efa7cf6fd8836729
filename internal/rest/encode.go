package rest

import (
	"github.com/aglae-connector/aglae-connector/internal/jsonenc"
	"strconv"
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
// by default (HTML characters included).
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s, true) }
