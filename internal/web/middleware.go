package web

import "net/http"

// DefaultMaxBody is the default request body limit: a lookup is a few
// hundred bytes.
const DefaultMaxBody = 64 << 10

// LimitBody caps every request body at n bytes; reading past it fails
// with *http.MaxBytesError, which Classify maps to TooLarge (413).
func LimitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}
