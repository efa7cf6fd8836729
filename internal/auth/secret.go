package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
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

// The argon2id parameters of new hashes: OWASP's recommendation (19 MiB,
// two passes, one lane). VerifySecret reads the parameters from the hash,
// so they can be raised later without invalidating existing secrets.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters VerifySecret accepts, so that a corrupt or
// hostile hash cannot make it allocate gigabytes or run for minutes.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 16
	maxArgonThreads = 64
	minArgonKeyLen  = 16
	maxArgonKeyLen  = 128
)

var b64 = base64.RawStdEncoding

// HashSecret hashes secret with argon2id and a random salt, and returns the
// hash in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (salt and hash in unpadded
// standard base64).
func HashSecret(secret string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash secret: %w", err)
	}
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifySecret reports whether secret matches encoded, a hash HashSecret
// made. The final comparison takes constant time. A malformed hash matches
// nothing.
func VerifySecret(encoded, secret string) bool {
	p, err := parsePHC(encoded)
	if err != nil {
		return false
	}
	key := argon2.IDKey([]byte(secret), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

// phc is a parsed argon2id hash.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var errPHC = errors.New("not an argon2id hash in PHC string format")

// parsePHC parses $argon2id$v=19$m=M,t=T,p=P$SALT$HASH.
func parsePHC(s string) (phc, error) {
	var p phc
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, errPHC
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, fmt.Errorf("%w: unsupported version %q", errPHC, f[2])
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return p, fmt.Errorf("%w: want m=,t=,p= parameters", errPHC)
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return p, fmt.Errorf("%w: parameter %d is not %s", errPHC, i+1, name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, fmt.Errorf("%w: parameter %s is not a number", errPHC, name)
		}
		vals[i] = n
	}
	m, t, th := vals[0], vals[1], vals[2]
	if t < 1 || t > maxArgonTime || th < 1 || th > maxArgonThreads || m < 8*th || m > maxArgonMemory {
		return p, fmt.Errorf("%w: parameters out of bounds", errPHC)
	}
	salt, err := b64.DecodeString(f[4])
	if err != nil || len(salt) < 8 {
		return p, fmt.Errorf("%w: bad salt", errPHC)
	}
	key, err := b64.DecodeString(f[5])
	if err != nil || len(key) < minArgonKeyLen || len(key) > maxArgonKeyLen {
		return p, fmt.Errorf("%w: bad hash", errPHC)
	}
	return phc{memory: uint32(m), time: uint32(t), threads: uint8(th), salt: salt, key: key}, nil
}
