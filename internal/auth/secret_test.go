package auth_test

import (
	"regexp"
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

func TestHashVerifyRoundTrip(t *testing.T) {
	_, secret := auth.NewCredentials()
	h, err := auth.HashSecret(secret)
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`), h)
	assert.NoError(t, auth.ParsePHC(h))

	assert.True(t, auth.VerifySecret(h, secret))
	assert.False(t, auth.VerifySecret(h, secret+"x"), "a longer secret")
	assert.False(t, auth.VerifySecret(h, secret[:len(secret)-1]), "a shorter secret")
	assert.False(t, auth.VerifySecret(h, ""), "no secret")
	_, other := auth.NewCredentials()
	assert.False(t, auth.VerifySecret(h, other), "another secret")

	h2, err := auth.HashSecret(secret)
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "each hash has its own salt")
	assert.True(t, auth.VerifySecret(h2, secret))
}

// Hashes made by the reference implementation (Debian's argon2 command,
// `echo -n SECRET | argon2 saltsaltsaltsalt -id -t T -k M -p 1 -l 32 -e`)
// verify: the format is the standard one, and the parameters are read from
// each hash, so they can be raised later without breaking old secrets.
func TestVerifyReferenceHashes(t *testing.T) {
	for _, c := range []struct{ hash, secret string }{
		{"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$+v0rf6ETYAIpqJIjJyARZ3W3zqJlkf+0TRXzsLHmR6o", "secret"},
		{"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$dBgov9rshkQ58oGSajQX/fV/3ZtWGRQsenAPBrdBf1Q",
			"acx_abcdefghijkl_abcdefghijklmnopqrstuvwxyz234567"},
	} {
		assert.True(t, auth.VerifySecret(c.hash, c.secret), c.hash)
		assert.False(t, auth.VerifySecret(c.hash, strings.ToUpper(c.secret)), c.hash)
	}
}

func TestParsePHCErrors(t *testing.T) {
	good, err := auth.HashSecret("s")
	require.NoError(t, err)
	f := strings.Split(good, "$")
	join := func(g ...string) string { return strings.Join(g, "$") }
	for name, s := range map[string]string{
		"empty":               "",
		"not PHC":             "plaintext",
		"bcrypt":              "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"argon2i":             join("", "argon2i", f[2], f[3], f[4], f[5]),
		"no leading dollar":   join("x", f[1], f[2], f[3], f[4], f[5]),
		"too few fields":      join("", f[1], f[2], f[3], f[4]),
		"too many fields":     good + "$x",
		"version 16":          join("", f[1], "v=16", f[3], f[4], f[5]),
		"version missing":     join("", f[1], "", f[3], f[4], f[5]),
		"parameters missing":  join("", f[1], f[2], "m=19456,t=2", f[4], f[5]),
		"parameters reorder":  join("", f[1], f[2], "t=2,m=19456,p=1", f[4], f[5]),
		"parameter not num":   join("", f[1], f[2], "m=lots,t=2,p=1", f[4], f[5]),
		"parameter negative":  join("", f[1], f[2], "m=19456,t=-2,p=1", f[4], f[5]),
		"parameter overflow":  join("", f[1], f[2], "m=99999999999,t=2,p=1", f[4], f[5]),
		"time zero":           join("", f[1], f[2], "m=19456,t=0,p=1", f[4], f[5]),
		"threads zero":        join("", f[1], f[2], "m=19456,t=2,p=0", f[4], f[5]),
		"memory too large":    join("", f[1], f[2], "m=4194304,t=2,p=1", f[4], f[5]),
		"memory too small":    join("", f[1], f[2], "m=4,t=2,p=1", f[4], f[5]),
		"salt not base64":     join("", f[1], f[2], f[3], "!!!!", f[5]),
		"salt too short":      join("", f[1], f[2], f[3], "YWI", f[5]),
		"salt padded":         join("", f[1], f[2], f[3], f[4]+"==", f[5]),
		"hash not base64":     join("", f[1], f[2], f[3], f[4], "not*base64"),
		"hash too short":      join("", f[1], f[2], f[3], f[4], "YWJjZA"),
		"hash empty":          join("", f[1], f[2], f[3], f[4], ""),
		"hash much too long":  join("", f[1], f[2], f[3], f[4], strings.Repeat("A", 400)),
		"trailing whitespace": good + " ",
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, auth.ParsePHC(s))
			assert.False(t, auth.VerifySecret(s, "s"), "a malformed hash matches nothing")
		})
	}
}
