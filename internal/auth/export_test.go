package auth

import (
	"sync/atomic"
	"testing"
	"time"
)

// CountVerifications counts the argon2id verifications from now to the end
// of the test. Tests that call it must not run in parallel.
func CountVerifications(t testing.TB) *atomic.Int64 {
	n := new(atomic.Int64)
	old := verify
	verify = func(encoded, secret string) bool {
		n.Add(1)
		return old(encoded, secret)
	}
	t.Cleanup(func() { verify = old })
	return n
}

// SetClock makes a read the time from now.
func SetClock(a *Authenticator, now func() time.Time) { a.now = now }

// ParsePHC parses an argon2id hash in PHC string format.
func ParsePHC(s string) error {
	_, err := parsePHC(s)
	return err
}
