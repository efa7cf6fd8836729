package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
)

func TestNewCredentials(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, secret := auth.NewCredentials()
		assert.Regexp(t, `^[a-z2-7]{12}$`, id)
		assert.Regexp(t, `^acx_`+id+`_[a-z2-7]{32}$`, secret)
		assert.False(t, seen[id], "ids are random")
		seen[id] = true
	}
}

func TestHashSecret(t *testing.T) {
	_, secret := auth.NewCredentials()
	h, err := auth.HashSecret(secret)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(secret))
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), h, "the SHA-256 of the secret, in hex")
	assert.NoError(t, auth.ParseDigest(h))
	h2, err := auth.HashSecret(secret)
	require.NoError(t, err)
	assert.Equal(t, h, h2, "no salt: a 160-bit random secret needs none")

	// Only a long random token may be kept as a plain digest.
	for _, s := range []string{"", "password", "correct horse battery staple", secret[:len(secret)-1], strings.ToUpper(secret)} {
		_, err := auth.HashSecret(s)
		assert.ErrorIs(t, err, auth.ErrNotASecret, "%q", s)
	}
}

func TestParseDigestErrors(t *testing.T) {
	_, secret := auth.NewCredentials()
	good, err := auth.HashSecret(secret)
	require.NoError(t, err)
	for name, s := range map[string]string{
		"empty":               "",
		"plain text":          "plaintext",
		"no prefix":           strings.TrimPrefix(good, "sha256:"),
		"upper-case prefix":   "SHA256:" + strings.TrimPrefix(good, "sha256:"),
		"too short":           good[:len(good)-1],
		"too long":            good + "0",
		"not hex":             good[:len(good)-1] + "g",
		"trailing whitespace": good + " ",
		"argon2id":            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$dBgov9rshkQ58oGSajQX/fV/3ZtWGRQsenAPBrdBf1Q",
	} {
		assert.Error(t, auth.ParseDigest(s), name)
	}
	err = auth.ParseDigest("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
	assert.ErrorContains(t, err, "re-issue the client", "an argon2id hash of an older version says what to do")
}
