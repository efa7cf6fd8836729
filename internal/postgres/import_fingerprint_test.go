package postgres_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// The fingerprints stored in aglae.dossier were made with
// strconv.AppendQuote: its quick path must quote alike, or the next import
// would rewrite every dossier.
func TestAppendQuotedIsAppendQuote(t *testing.T) {
	for _, s := range []string{"", "VER", "2025VER2000000011F", "UM1 UFR Médecine", `a"b`, `a\\b`, "tab\there", "\x7f", "~ ok !", "日本", "\xff"} {
		assert.Equal(t, string(strconv.AppendQuote([]byte("x"), s)), string(postgres.AppendQuoted([]byte("x"), s)), "%q", s)
	}
}
