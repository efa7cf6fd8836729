package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
)

// SecretPrefix starts every secret, so that a leaked one is easy to spot
// (in a repository, a log) and to tell from other tokens.
const SecretPrefix = "acx_"

const (
	idLen     = 12 // base32 characters of a client id (60 random bits)
	secretLen = 32 // base32 characters of a secret's random part (160 random bits)
)

// lowerBase32 is RFC 4648 base32 in lower case, without padding: a-z, 2-7.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewCredentials returns a new client id, 12 lower-case base32 characters,
// and its secret, "acx_" + id + "_" + 32 random base32 characters: a
// Bearer token alone names its client.
func NewCredentials() (id, secret string) {
	var b [8 + 20]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id = lowerBase32.EncodeToString(b[:8])[:idLen]
	return id, SecretPrefix + id + "_" + lowerBase32.EncodeToString(b[8:])
}

// idFromSecret returns the client id a secret names, and whether it has
// the shape NewCredentials gives.
func idFromSecret(secret string) (string, bool) {
	if len(secret) != len(SecretPrefix)+idLen+1+secretLen ||
		!strings.HasPrefix(secret, SecretPrefix) || secret[len(SecretPrefix)+idLen] != '_' {
		return "", false
	}
	id := secret[len(SecretPrefix) : len(SecretPrefix)+idLen]
	return id, validID(id)
}

// validID reports whether id may be a client id: what the database allows,
// 4 to 32 lower-case letters and digits. Anything else is refused before
// the store is asked.
func validID(id string) bool {
	if len(id) < 4 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// A secret is a long random token, 160 random bits: it cannot be guessed,
// so a slow password hash adds nothing to it but a cost per request, which
// a flood of wrong secrets turns against the service. The store keeps its
// SHA-256, and a request's secret is recognised by comparing digests in
// constant time: microseconds, however many requests are wrong. (A
// password a person chooses would need argon2id; there is none.)

// digestPrefix starts the stored digest of a secret.
const digestPrefix = "sha256:"

// legacyPrefix starts the argon2id hashes stored before migration 00005:
// they authenticate no one, and the operator re-issues those clients.
const legacyPrefix = "$argon2id$"

// ErrNotASecret is HashSecret's refusal of a string NewCredentials did not
// make: only a long random token may be stored as a plain digest.
var ErrNotASecret = errors.New("auth: not a secret of NewCredentials' shape")

// HashSecret returns what the store keeps of secret: "sha256:" and its
// SHA-256 in lower-case hex. It refuses a string that NewCredentials did not
// make (ErrNotASecret).
func HashSecret(secret string) (string, error) {
	if _, ok := idFromSecret(secret); !ok {
		return "", ErrNotASecret
	}
	sum := sha256.Sum256([]byte(secret))
	return digestPrefix + hex.EncodeToString(sum[:]), nil
}

// errLegacyHash is parseDigest's error for an argon2id hash.
var errLegacyHash = errors.New("the client's secret is stored as an argon2id hash, which this version no longer checks: " +
	"re-issue the client (clients revoke, then clients add) and give its establishment the new secret")

// parseDigest reads a digest HashSecret made.
func parseDigest(stored string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	h, ok := strings.CutPrefix(stored, digestPrefix)
	if !ok {
		if strings.HasPrefix(stored, legacyPrefix) {
			return sum, errLegacyHash
		}
		return sum, errors.New("the client's stored secret digest is not sha256:HEX")
	}
	if len(h) != 2*sha256.Size {
		return sum, errors.New("the client's stored secret digest is not 64 hex digits")
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
		return sum, errors.New("the client's stored secret digest is not 64 hex digits")
	}
	return sum, nil
}
