package rest

import "encoding/json"

// The answers and problems are written by encoding/json: its escaping
// (HTML characters, U+2028 and U+2029, invalid UTF-8 as U+FFFD) is the one
// the golden files and the clients have always seen. A hand-written
// writer was measured no faster end to end (BENCHMARKS.md).

// appendReponse appends the JSON form of r, fields in the order of the
// Reponse struct, empty optional fields left out.
func appendReponse(b []byte, r Reponse) []byte { return appendJSON(b, r) }

// problem is an RFC 9457 problem details object.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
}

// appendProblem appends the JSON form of p.
func appendProblem(b []byte, p problem) []byte { return appendJSON(b, p) }

// appendJSON appends what encoding/json writes for v, one of this
// package's wire types, which hold only strings and integers and so always
// encode.
func appendJSON(b []byte, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		panic("rest: " + err.Error())
	}
	return append(b, out...)
}
