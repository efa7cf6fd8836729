package web

import (
	"context"

	"go.uber.org/zap/zapcore"
)

// Annotations are what a handler tells the access log about a request. They
// never hold an identifier or a name in clear: use Mask.
type Annotations struct {
	Operation   string // e.g. "consulterBoursier", "GET boursier"
	Identifiant string // masked
	Statut      string
	Raison      string
	Erreur      string // the problem type or SOAP fault code of a failed request
	Cause       error  // the internal cause of a 5xx, for the operator
}

type annotationsKey struct{}

// WithAnnotations returns a context that carries a fresh Annotations.
func WithAnnotations(ctx context.Context) (context.Context, *Annotations) {
	a := &Annotations{}
	return context.WithValue(ctx, annotationsKey{}, a), a
}

// Annotate returns the request's Annotations; a throwaway one when the
// request has none, so handlers never check.
func Annotate(ctx context.Context) *Annotations {
	if a, ok := ctx.Value(annotationsKey{}).(*Annotations); ok {
		return a
	}
	return &Annotations{}
}

// MarshalLogObject writes the non-empty annotations.
func (a *Annotations) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, f := range []struct{ k, v string }{
		{"operation", a.Operation}, {"identifiant", a.Identifiant}, {"statut", a.Statut},
		{"raison", a.Raison}, {"erreur", a.Erreur},
	} {
		if f.v != "" {
			enc.AddString(f.k, f.v)
		}
	}
	return nil
}

// Mask hides the middle of an identifier for the logs: 1111037734L becomes
// 1111****34L. Short or odd values are hidden whole.
func Mask(s string) string {
	if len(s) < 8 {
		if s == "" {
			return ""
		}
		return "****"
	}
	return s[:4] + "****" + s[len(s)-3:]
}
