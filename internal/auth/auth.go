// Package auth knows who calls the connector and how fast they may call.
//
// Each caller is an API client: an establishment (with its UAI) or a named
// integrator. A client proves who it is with a secret, sent as
// `Authorization: Bearer SECRET` or as HTTP Basic `id:secret`, or with a
// client certificate over mutual TLS whose subject names it. Secrets are
// stored only as argon2id hashes; [Authenticator] runs argon2id once per
// client per process and then recognises the secret by its SHA-256, so the
// slow hash never caps throughput, while it re-reads the client's record
// every few seconds so that a revocation takes effect quickly.
//
// [Limiter] gives each client a token bucket: its own rate and burst when
// its record sets them, a generous default otherwise.
//
// The package holds the domain's words (Client, NewClient, Store) and the
// HTTP middlewares; the store itself lives in package postgres.
package auth

import (
	"context"
	"errors"
	"time"
)

// Client is an API client as the store records it.
type Client struct {
	ID          string
	Nom         string
	UAI         string // the client's establishment; "" for an integrator
	CertSubject string // subject of the client certificate that authenticates it over mutual TLS; "" for none
	Rate        float64
	Burst       int
	CreatedAt   time.Time
	RevokedAt   *time.Time // nil while the client is active

	// SecretHash is the argon2id hash of the client's secret, in PHC
	// string format. The store fills it in ByID and BySubject only, for
	// the Authenticator; List leaves it empty, and the client the
	// middleware puts in a request's context never carries it.
	SecretHash string
}

// Revoked reports whether the client was revoked.
func (c Client) Revoked() bool { return c.RevokedAt != nil }

// NewClient is a client to create. SecretHash is HashSecret's result;
// Debit and Rafale are 0 for the service's default.
type NewClient struct {
	ID          string
	Nom         string
	UAI         string
	CertSubject string
	SecretHash  string
	Rate        float64
	Burst       int
}

// Store finds API clients for the Authenticator.
type Store interface {
	// ByID returns the client with that id, revoked or not. Errors are of
	// kind NotFound (no such client), Unavailable or Internal.
	ByID(ctx context.Context, id string) (Client, error)
	// BySubject returns the client whose certificate subject is subject,
	// revoked or not. Errors are of kind NotFound, Unavailable or
	// Internal.
	BySubject(ctx context.Context, subject string) (Client, error)
}

// ErrUnauthorized is the one error of a refused authentication: missing,
// malformed or wrong credentials, an unknown or a revoked client. It never
// says which.
var ErrUnauthorized = errors.New("auth: unauthorized")

type clientKey struct{}

// WithClient returns a context that carries the authenticated client c.
func WithClient(ctx context.Context, c Client) context.Context {
	c.SecretHash = ""
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the authenticated client ctx carries, and whether it
// carries one.
func ClientFrom(ctx context.Context) (Client, bool) {
	c, ok := ctx.Value(clientKey{}).(Client)
	return c, ok
}
