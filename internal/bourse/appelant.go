package bourse

import "context"

// Canal is the way a lookup reached the connector.
type Canal string

// The channels of a lookup.
const (
	CanalREST    Canal = "REST"
	CanalSOAP    Canal = "SOAP"
	CanalBatch   Canal = "LOT"     // the batch re-check
	CanalRecheck Canal = "RECHECK" // the nightly re-check of an establishment
	CanalCLI     Canal = "CLI"
	CanalConsole Canal = "CONSOLE" // a lookup a gestionnaire replays from the console
)

// Appelant is who asks: the authenticated API client and its establishment.
// Authentication sets it (auth.Middleware), once per request; the
// consultation log reads it.
type Appelant struct {
	ClientID string
	Nom      string
	UAI      UAI // the client's establishment, validated; "" for an integrator
	Canal    Canal
}

type appelantKey struct{}

// WithAppelant returns a context that carries a.
func WithAppelant(ctx context.Context, a Appelant) context.Context {
	return context.WithValue(ctx, appelantKey{}, a)
}

// AppelantFrom returns the caller ctx carries, and whether it carries one.
func AppelantFrom(ctx context.Context) (Appelant, bool) {
	a, ok := ctx.Value(appelantKey{}).(Appelant)
	return a, ok
}
