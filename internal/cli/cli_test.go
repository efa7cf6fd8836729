package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/cli"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// run runs the command line with DATABASE_URL set to url.
func run(t *testing.T, url string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string {
			if k == "DATABASE_URL" {
				return url
			}
			return ""
		},
	}
	code = cli.Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

type testCase struct {
	Name   string `json:"name"`
	Saisie struct {
		Identifiant   string `json:"identifiant"`
		Annee         int    `json:"anneeUniversitaire"`
		Nom           string `json:"nom"`
		Prenom        string `json:"prenom"`
		DateNaissance string `json:"dateNaissance"`
	} `json:"saisie"`
	Want json.RawMessage `json:"want"`
}

func TestCheckAnswersEveryTestdataStudent(t *testing.T) {
	url := pgtest.URL(t)
	code, _, stderr := run(t, url, "", "import", "--quiet", testutil.Testdata("extract.jsonl"))
	require.Equal(t, 0, code, stderr)

	b, err := os.ReadFile(testutil.Testdata("cases.json"))
	require.NoError(t, err)
	var cases []testCase
	require.NoError(t, json.Unmarshal(b, &cases))
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var args []string
			if c.Saisie.Identifiant != "" {
				args = append(args, c.Saisie.Identifiant)
			}
			// Flags after the identifier, as operators type them.
			args = append([]string{"check"}, args...)
			if c.Saisie.Annee != 0 {
				args = append(args, "--annee", strconv.Itoa(c.Saisie.Annee))
			}
			if c.Saisie.Nom != "" {
				args = append(args, "--nom", c.Saisie.Nom, "--prenom", c.Saisie.Prenom, "--date-naissance", c.Saisie.DateNaissance)
			}
			code, stdout, stderr := run(t, url, "", args...)
			require.Equal(t, 0, code, stderr)
			assert.JSONEq(t, string(c.Want), stdout)
			assert.Equal(t, 1, strings.Count(stdout, "\n"), "one JSON object on one line")
		})
	}
}

func TestCheckFlagsBeforeTheIdentifier(t *testing.T) {
	url := pgtest.URL(t)
	code, _, stderr := run(t, url, "", "import", "--quiet", testutil.Testdata("extract.jsonl"))
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr := run(t, url, "", "check", "--annee", "2014", "1111037734L")
	require.Equal(t, 0, code, stderr)
	assert.JSONEq(t, `{"identifiant":"1111037734L","anneeUniversitaire":2014,"statut":"BOURSIER","typeDecision":"CONDITIONNELLE",
		"echelon":"1","numeroDossier":"2014MON1111037734L","correspondance":"IDENTIFIANT"}`, stdout)
}

func TestCheckRefusesBadInputWithoutTheDatabase(t *testing.T) {
	// No database at all: validation must come first.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "1111037734M", "--annee", "2014"}, "identifiant: key:"},
		{[]string{"check", "11110377"}, "identifiant: length:"},
		{[]string{"check", "1111037734L", "--annee", "99999"}, "anneeUniversitaire"},
		{[]string{"check", "1111037734L", "--nom", "Boulet"}, "prenom"},
		{[]string{"check", "2014MON1111037734L", "--annee", "2015"}, "contradicts"},
		{[]string{"check"}, "identifiant: required"},
		{[]string{"check", "--annee", "abc", "1111037734L"}, "invalid value"},
	} {
		code, stdout, stderr := run(t, "", "", c.args...)
		assert.NotEqual(t, 0, code, "%v", c.args)
		assert.Empty(t, stdout, "%v", c.args)
		assert.Contains(t, stderr, c.want, "%v", c.args)
	}
}

func TestImportBadExtractExitsNonZeroAndNamesTheLine(t *testing.T) {
	url := pgtest.URL(t)
	b, err := os.ReadFile(testutil.Testdata("extract.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines[4] = strings.Replace(lines[4], `"etat":"PIECES_MANQUANTES"`, `"etat":"PERDU"`, 1)
	code, _, stderr := run(t, url, strings.Join(lines, "\n"), "import", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "line 5: etat: must be one of NON_TRAITE, PIECES_MANQUANTES, VALIDE, ANNULE")
	assert.Contains(t, stderr, "nothing was imported")

	code, stdout, _ := run(t, url, "", "check", "2000000011F", "--annee", "2025")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, `"statut":"INCONNU"`, "the good lines were not imported either")
}

func TestMigrateDownAndUp(t *testing.T) {
	url := pgtest.URL(t)
	code, _, stderr := run(t, url, "", "migrate")
	require.Equal(t, 0, code, stderr)
	latest := stderr
	code, _, stderr = run(t, url, "", "migrate", "--down")
	require.Equal(t, 0, code, stderr)
	assert.NotEqual(t, latest, stderr, "one step back")
	code, _, stderr = run(t, url, "", "migrate")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, latest, stderr, "back to the latest version")
}

func TestDemoImportsCleanly(t *testing.T) {
	url := pgtest.URL(t)
	code, extract, stderr := run(t, url, "", "demo", "--dossiers", "2000", "--annees", "2023,2024,2025")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 2000, strings.Count(extract, "\n"))
	code, _, stderr = run(t, url, extract, "import", "--quiet", "-")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "2000 dossiers (2000 created")
	code, _, stderr = run(t, url, extract, "import", "--quiet", "-")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "2000 dossiers (0 created, 0 changed, 2000 unchanged)")
}
