package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argonCost is the cost of argon2id for a new hash: memory in KiB, passes
// and lanes. A hash records its own cost, so CheckPassword never reads it.
type argonCost struct {
	memory  uint32
	time    uint32
	threads uint8
}

// hashCost is OWASP's recommendation (19 MiB, 2 passes, 1 lane). Only the
// package's tests lower it, to sign accounts in by the dozen under the race
// detector; TestPasswordHash checks the production value.
var hashCost = argonCost{memory: 19 * 1024, time: 2, threads: 1}

const (
	argonKeyLen  = 32
	argonSaltLen = 16
)

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password as a PHC string.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	c := hashCost
	key := argon2.IDKey([]byte(password), salt, c.time, c.memory, c.threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.memory, c.time, c.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is checked when the e-mail is unknown, so that a wrong e-mail
// costs the time of a wrong password.
var dummyHash = func() string {
	h, err := HashPassword("pas un mot de passe")
	if err != nil {
		panic(err)
	}
	return h
}()

// CheckPassword reports whether password matches the PHC string hash.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false, errors.New("bad argon2 parameters")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, err
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return false, errors.New("bad argon2 key")
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NewPassword returns a one-time password: 16 random characters that are
// easy to read and type (no 0/O, 1/l/I).
func NewPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	return randomString(alphabet, 16)
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	r := make([]byte, n)
	for i := 0; i < n; {
		_, _ = rand.Read(r)
		for _, c := range r {
			if int(c) < 256-256%len(alphabet) && i < n {
				b[i] = alphabet[int(c)%len(alphabet)]
				i++
			}
		}
	}
	return string(b)
}

// newToken returns 32 random bytes, base64url: a session or CSRF token.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
