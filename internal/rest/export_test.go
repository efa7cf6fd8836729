package rest

// Hooks for the black-box tests.

// AppendReponse is appendReponse.
var AppendReponse = appendReponse

// AppendProblem writes a problem as the handlers do.
func AppendProblem(b []byte, typ, title string, status int, detail, instance string) []byte {
	return appendProblem(b, problem{Type: typ, Title: title, Status: status, Detail: detail, Instance: instance})
}
