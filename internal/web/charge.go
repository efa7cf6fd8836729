package web

import "context"

// ChargeFunc charges a batch of n lookups to the caller of a request:
// rate-limit tokens and a place among the batches in flight. It returns
// the function that gives the place back, or an error Classify maps to
// TooManyRequests or Unavailable (the answer's headers, such as
// Retry-After, are already set).
type ChargeFunc func(n int) (release func(), err error)

type chargeKey struct{}

// WithCharge returns a context whose batches are charged with f. The
// middleware that knows the caller puts it there.
func WithCharge(ctx context.Context, f ChargeFunc) context.Context {
	return context.WithValue(ctx, chargeKey{}, f)
}

// ChargeBatch charges a batch of n lookups to the request's caller, as the
// faces do once a batch is decoded and before it is looked up: the caller
// must call release when the batch is answered. Without a ChargeFunc in ctx
// (a face tested alone) it charges nothing.
func ChargeBatch(ctx context.Context, n int) (release func(), err error) {
	if f, ok := ctx.Value(chargeKey{}).(ChargeFunc); ok {
		return f(n)
	}
	return func() {}, nil
}
