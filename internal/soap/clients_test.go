package soap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/servertest"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// The independent clients of these tests (JAX-WS and zeep) run against the
// whole service, as a university's chain does: over HTTP, behind
// authentication (HTTP Basic with an API client's id and secret), on a fresh
// database holding testdata/extract.jsonl.

// liveService is the whole service on a free port.
type liveService struct {
	url    string // the SOAP endpoint
	id     string // the API client's id (the Basic user name)
	secret string // and its secret (the Basic password)
}

// startService runs the whole service with one API client.
func startService(t *testing.T) *liveService {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	pgtest.ImportFile(t, pool, repo("testdata", "extract.jsonl"))
	id, secret := auth.NewCredentials()
	hash, err := auth.HashSecret(secret)
	require.NoError(t, err)
	require.NoError(t, postgres.NewClients(pool).Add(ctx, auth.NewClient{
		ID: id, Nom: "Apogée (Java)", UAI: "0781944P", SecretHash: hash, Rate: 1000, Burst: 1000}))

	svc := servertest.Start(t, servertest.Config(t, url), nil)
	return &liveService{url: svc.URL() + soap.Path, id: id, secret: secret}
}

// aptMu serialises the installs of the tests of this package.
var aptMu sync.Mutex

// ensureDebianPackages installs pkgs with apt-get when present() is false,
// as a developer would on Debian; the test is skipped, saying what to
// install, only when it cannot (not root, or no apt-get).
func ensureDebianPackages(t *testing.T, present func() bool, pkgs ...string) {
	t.Helper()
	aptMu.Lock()
	defer aptMu.Unlock()
	if present() {
		return
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil || os.Geteuid() != 0 {
		t.Skipf("missing %s and cannot install it here (needs root and apt-get): apt-get install %s",
			strings.Join(pkgs, " "), strings.Join(pkgs, " "))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	for _, args := range [][]string{{"update", "-q"}, append([]string{"install", "-y", "-q", "--no-install-recommends"}, pkgs...)} {
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "apt-get %s:\n%s", strings.Join(args, " "), tail(out))
	}
	t.Logf("installed %s in %s", strings.Join(pkgs, " "), time.Since(start).Round(time.Second))
	require.True(t, present(), "%s installed, still missing", strings.Join(pkgs, " "))
}

// lookPaths tells whether every command is on PATH.
func lookPaths(cmds ...string) func() bool {
	return func() bool {
		for _, c := range cmds {
			if _, err := exec.LookPath(c); err != nil {
				return false
			}
		}
		return true
	}
}

// clientResult is what the clients of testdata/java and testdata/zeep
// print for one call.
type clientResult struct {
	Name   string   `json:"name"`
	Result *Reponse `json:"result"`
	Batch  *struct {
		Reponses []json.RawMessage `json:"reponses"`
	} `json:"lot"`
	Fault *struct {
		Status      int    `json:"status"` // the HTTP status, for the clients that tell it
		FaultString string `json:"faultstring"`
		Code        string `json:"code"`
		Message     string `json:"message"`
	} `json:"fault"`
	Error string `json:"error"`
}

// batchInvalid is the identifier of the batch that has a bad key.
const batchInvalid = "1111037734M"

// writeCalls writes the calls every client makes, one a line as the clients
// read them: every case of testdata/cases.json, a lookup the service
// refuses with a fault, a batch of the 2025 identifiers of the cases and an
// invalid one, and a lookup with a wrong password.
func writeCalls(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, c := range testutil.LoadCases(t) {
		s := c.Saisie
		annee := ""
		if s.Annee != 0 {
			annee = strconv.Itoa(s.Annee)
		}
		fmt.Fprintf(&b, "consulter\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, s.Identifiant, annee, s.CodeEtablissement, s.Nom, s.Prenom, s.DateNaissance)
	}
	fmt.Fprintf(&b, "consulter\tfault_invalid_key\t1111037734A\t2014\t\t\t\t\n")
	var ids []string
	for _, c := range batchCases(t) {
		ids = append(ids, c.Saisie.Identifiant)
	}
	fmt.Fprintf(&b, "lot\tlot\t2025\t\t%s\n", strings.Join(append(ids, batchInvalid), ","))
	fmt.Fprintf(&b, "unauthorized\tunauthorized\t1111037734L\n")
	path := filepath.Join(t.TempDir(), "calls.tsv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// checkClientResults checks what a client printed for writeCalls' calls:
// the cases' answers, the batch's answers and erreur, the typed fault and
// the 401: an error that names it, or, for a client that reads the
// soap:Client fault sent with it (faultOn401), that fault with its status.
func checkClientResults(t *testing.T, out []byte, faultOn401 bool) {
	t.Helper()
	byName := map[string]clientResult{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r clientResult
		require.NoError(t, json.Unmarshal(line, &r), "%s", line)
		byName[r.Name] = r
	}
	cases := testutil.LoadCases(t)
	require.Len(t, byName, len(cases)+3, "%s", out)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r := byName[c.Name]
			require.Empty(t, r.Error)
			require.Nil(t, r.Fault, "fault: %+v", r.Fault)
			require.NotNil(t, r.Result)
			assert.Equal(t, c.Want, *r.Result)
		})
	}
	t.Run("fault_invalid_key", func(t *testing.T) {
		r := byName["fault_invalid_key"]
		require.Empty(t, r.Error)
		require.NotNil(t, r.Fault, "no fault: %+v", r.Result)
		assert.Equal(t, "INVALID_INPUT", r.Fault.Code)
		assert.Contains(t, r.Fault.Message, "identifiant: key:")
		assert.Equal(t, r.Fault.Message, r.Fault.FaultString)
	})
	t.Run("lot", func(t *testing.T) {
		r := byName["lot"]
		require.Empty(t, r.Error)
		require.Nil(t, r.Fault, "fault: %+v", r.Fault)
		require.NotNil(t, r.Batch)
		want := batchCases(t)
		require.Len(t, r.Batch.Reponses, len(want)+1)
		for i, c := range want {
			var got Reponse
			require.NoError(t, json.Unmarshal(r.Batch.Reponses[i], &got))
			assert.Equal(t, c.Want, got, c.Name)
			assert.NotContains(t, string(r.Batch.Reponses[i]), "erreur", c.Name)
		}
		var last map[string]any
		require.NoError(t, json.Unmarshal(r.Batch.Reponses[len(want)], &last))
		assert.Equal(t, batchInvalid, last["identifiant"])
		assert.NotContains(t, last, "statut")
		assert.NotContains(t, last, "anneeUniversitaire")
		erreur, _ := last["erreur"].(map[string]any)
		assert.Equal(t, "INVALID_INPUT", erreur["code"], "%v", last)
		assert.Contains(t, erreur["message"], "identifiant: key:")
	})
	t.Run("unauthorized", func(t *testing.T) {
		r := byName["unauthorized"]
		require.Nil(t, r.Result, "answered with a wrong password")
		if faultOn401 {
			require.NotNil(t, r.Fault, "error: %s", r.Error)
			assert.Equal(t, 401, r.Fault.Status)
			assert.Equal(t, "UNAUTHORIZED", r.Fault.Code)
			return
		}
		require.Nil(t, r.Fault, "%+v", r.Fault)
		assert.Contains(t, r.Error, "401")
	})
}

// runCombined runs a command that must succeed and returns its combined
// output.
func runCombined(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), tail(out))
	return string(out)
}

// runClient runs a client command and returns its standard output.
func runClient(t *testing.T, dir string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), tail(stderr.Bytes()))
	return out
}
