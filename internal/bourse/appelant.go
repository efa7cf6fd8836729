package bourse

import "context"

// Canal is the way a lookup reached the connector.
type Canal string

// The channels of a lookup.
const (
	CanalREST    Canal = "REST"
	CanalSOAP    Canal = "SOAP"
	CanalLot     Canal = "LOT"     // the batch re-check
	CanalRecheck Canal = "RECHECK" // the nightly re-check of an establishment
	CanalCLI     Canal = "CLI"
	CanalConsole Canal = "CONSOLE" // a lookup a gestionnaire replays from the console
)

// Appelant is who asks: the authenticated API client and its establishment.
type Appelant struct {
	ClientID string
	Nom      string
	UAI      string // the client's establishment; "" for an integrator
	Canal    Canal
}

type appelantKey struct{}

// AvecAppelant returns a context that carries a.
func AvecAppelant(ctx context.Context, a Appelant) context.Context {
	return context.WithValue(ctx, appelantKey{}, a)
}

// AppelantDe returns the caller ctx carries, and whether it carries one.
func AppelantDe(ctx context.Context) (Appelant, bool) {
	a, ok := ctx.Value(appelantKey{}).(Appelant)
	return a, ok
}
