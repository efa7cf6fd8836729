package suivi_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

// TestSMTPFromEnv checks the SMTP configuration read from the
// environment: defaults per TLS mode, and every refusal.
func TestSMTPFromEnv(t *testing.T) {
	base := map[string]string{"SMTP_HOST": "smtp.univ.example.fr", "SMTP_FROM": "Connecteur Aglaé <aglae@univ.example.fr>"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	ok := []struct {
		name     string
		env      map[string]string
		tls      string
		port     int
		username string
		password string
	}{
		{"defaults: STARTTLS on 587", base, "starttls", 587, "", ""},
		{"implicit TLS on 465", with("SMTP_TLS", "tls"), "tls", 465, "", ""},
		{"plain on 25", with("SMTP_TLS", "NONE"), "none", 25, "", ""},
		{"port given", with("SMTP_TLS", "starttls", "SMTP_PORT", "2525"), "starttls", 2525, "", ""},
		{"credentials", with("SMTP_USERNAME", "aglae", "SMTP_PASSWORD", " a b "), "starttls", 587, "aglae", " a b "},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			c, err := suivi.SMTPFromEnv(func(k string) string { return tc.env[k] })
			require.NoError(t, err)
			assert.Equal(t, tc.tls, c.TLS)
			assert.Equal(t, tc.port, c.Port)
			assert.Equal(t, tc.username, c.Username)
			assert.Equal(t, tc.password, c.Password)
			if tc.password != "" {
				assert.NotContains(t, c.String(), strings.TrimSpace(tc.password), "String masks the password")
			}
		})
	}
	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no host", map[string]string{"SMTP_FROM": "a@b.fr"}, "SMTP_HOST"},
		{"no sender", map[string]string{"SMTP_HOST": "h"}, "SMTP_FROM"},
		{"bad sender", with("SMTP_FROM", "not an address"), "SMTP_FROM"},
		{"bad TLS mode", with("SMTP_TLS", "ssl"), "SMTP_TLS"},
		{"bad port", with("SMTP_PORT", "70000"), "SMTP_PORT"},
		{"user without password", with("SMTP_USERNAME", "aglae"), "SMTP_PASSWORD"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := suivi.SMTPFromEnv(func(k string) string { return tc.env[k] })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
