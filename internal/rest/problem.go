package rest

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/aglae-connector/aglae-connector/internal/web"
)

// WriteProblem writes err as an RFC 9457 problem (application/problem+json).
// web.Classify gives the status, the type and the
// detail; an error of no known kind is a 500 whose detail says nothing of
// it. The request id, if any, is the problem's instance. A 503 asks to
// retry after a second. The access-log annotations get the problem type
// and, for a 5xx, the cause.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, err)
}

// writeProblem is WriteProblem, returning the kind it wrote.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) web.Kind {
	kind, detail := web.Classify(err)
	ann := web.Annotate(r.Context())
	ann.Erreur = kind.Type
	if kind.Status >= 500 {
		ann.Cause = err
	}
	p := problem{
		Type:     web.ProblemBase + kind.Type,
		Title:    kind.Title,
		Status:   kind.Status,
		Detail:   detail,
		Instance: middleware.GetReqID(r.Context()),
	}
	buf := outPool.Get().(*[]byte)
	out := appendProblem((*buf)[:0], p)
	h := w.Header()
	h["Content-Type"] = hdrProblem
	h["Cache-Control"] = hdrNoStore
	h["X-Content-Type-Options"] = hdrNoSniff
	if kind.Status == http.StatusServiceUnavailable {
		h["Retry-After"] = hdrRetry
	}
	w.WriteHeader(kind.Status)
	_, _ = w.Write(out)
	*buf = out
	outPool.Put(buf)
	return kind
}

// NotFoundHandler answers a path no route matches with a 404 problem.
func NotFoundHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, web.Errorf(web.NotFound,
			"no resource at this path; the API is described at /openapi.yaml"))
	}
}

// methods are the methods a 405 looks up to build its Allow header.
var methods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions,
}

// MethodNotAllowedHandler answers a method the matched path does not take
// with a 405 problem and an Allow header listing those it takes. chi does
// not pass its list to a custom handler: the routes are asked again.
func MethodNotAllowedHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allow := allowed(r)
		detail := "method " + r.Method + " is not allowed on this resource"
		if len(allow) > 0 {
			joined := strings.Join(allow, ", ")
			w.Header().Set("Allow", joined)
			detail += "; allowed: " + joined
		}
		WriteProblem(w, r, web.Errorf(web.MethodNotAllowed, detail))
	}
}

// allowed returns the methods the request's path takes, from the routes
// of the router that received it.
func allowed(r *http.Request) []string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return nil
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var allow []string
	for _, m := range methods {
		if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
			allow = append(allow, m)
		}
	}
	return allow
}
