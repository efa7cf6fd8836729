package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// requestID gives every request an id: the caller's X-Request-Id when it is
// short and plain (so an id can follow a request across systems), a new
// one otherwise. It is echoed in the response and put where chi's
// middleware.GetReqID finds it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !plainID(id) {
			id = newID()
		}
		w.Header()["X-Request-Id"] = []string{id} // canonical already: no Set, which canonicalises
		ctx := context.WithValue(r.Context(), middleware.RequestIDKey, id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func plainID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// accessLog writes one JSON line per request: never the raw path or body
// (they may hold an identifier or a name), but the route pattern and the
// handler's annotations, where identifiers are masked.
func accessLog(log *zap.Logger, m *metrics) func(http.Handler) http.Handler {
	// The caller would always be this function: capturing it cost a stack
	// walk per request (runtime.Callers, 3 % of the service's CPU).
	log = log.Named("access").WithOptions(zap.WithCaller(false))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ctx, ann := web.WithAnnotations(r.Context())
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r.WithContext(ctx))

			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			route := "unmatched"
			if rc := chi.RouteContext(ctx); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			elapsed := time.Since(start)
			m.observe(route, status, ann.Statut, elapsed)
			fields := []zap.Field{
				zap.String("request_id", middleware.GetReqID(ctx)),
				zap.String("method", r.Method),
				zap.String("route", route),
				zap.Int("status", status),
				zap.Int("bytes", ww.BytesWritten()),
				zap.Duration("duration", elapsed),
				zap.String("remote", r.RemoteAddr),
				zap.Object("request", ann),
			}
			// A 5xx is the operator's concern unless it was the caller's fault,
			// or the caller went away before the answer.
			if status >= 500 && !clientFault(ann.Erreur) && r.Context().Err() == nil {
				if ann.Cause != nil {
					fields = append(fields, zap.NamedError("cause", ann.Cause))
				}
				log.Error("request", fields...)
				return
			}
			log.Info("request", fields...)
		})
	}
}

// recoverer turns a panic into a 500 problem and an error log with the
// stack, instead of a dropped connection.
func recoverer(log *zap.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic", zap.String("request_id", middleware.GetReqID(r.Context())),
						zap.String("panic", fmt.Sprint(v)), zap.ByteString("stack", debug.Stack()))
					rest.WriteProblem(w, r, fmt.Errorf("panic: %v", v))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// clientFault reports whether a 5xx answer is in fact the caller's fault:
// SOAP sends client faults with HTTP 500, as WS-I requires.
func clientFault(code string) bool {
	return code != "" && code != web.Internal.SOAPKey && code != web.Unavailable.SOAPKey &&
		code != web.Internal.Type && code != web.Unavailable.Type
}

// shed bounds the requests served at once: past max, a request is refused
// at once with 503 and Retry-After instead of queueing without end, so
// that memory stays bounded and the service answers normally as soon as
// the burst is over. Health checks are never shed.
func shed(max int, onError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	if max <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	slots := make(chan struct{}, max)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
				next.ServeHTTP(w, r)
				return
			}
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				next.ServeHTTP(w, r)
			default:
				w.Header().Set("Retry-After", "1")
				onError(w, r, web.Errorf(web.Unavailable, "the service is at capacity; retry in a second"))
			}
		})
	}
}
