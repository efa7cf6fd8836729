package soap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// nodeResult is what testdata/node/lookup.js prints for one case.
type nodeResult struct {
	Name   string   `json:"name"`
	Result *Reponse `json:"result"`
	Batch  *struct {
		Reponses []json.RawMessage `json:"reponses"`
	} `json:"lot"`
	Fault *struct {
		Status      int    `json:"status"`
		FaultCode   string `json:"faultcode"`
		FaultString string `json:"faultstring"`
		Code        string `json:"code"`
		Message     string `json:"message"`
		Error       string `json:"error"`
	} `json:"fault"`
}

// TestNodeSoapInterop calls every case of testdata/cases.json with
// node-soap 1.13.0, an independent SOAP client that builds itself from the
// WSDL the service serves, and two bad lookups that must come back as
// faults node-soap parses; then the 2025 identifiers of the cases and a bad
// one in one consulterBoursiers, and a batch of 1,001 identifiers, a fault. It needs node on PATH, and installs node-soap
// into testdata/node (npm ci) the first time.
func TestNodeSoapInterop(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: skipping the node-soap interoperability test (install Node.js 20+ to run it)")
	}
	dir := repo("internal", "soap", "testdata", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "soap", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Skip("npm is not on PATH: cannot install node-soap, skipping the interoperability test")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("npm ci could not install node-soap (is the npm registry reachable?), skipping the interoperability test: %v\n%s", err, tail(out))
		}
	}

	e := newEnv(t, soap.Options{})
	cases := testutil.LoadCases(t)
	type batchArgs struct {
		AnneeUniversitaire int      `json:"anneeUniversitaire,omitempty"`
		Identifiant        []string `json:"identifiant"`
	}
	type call struct {
		Name   string     `json:"name"`
		Saisie Saisie     `json:"saisie"`
		Batch  *batchArgs `json:"lot,omitempty"`
	}
	var calls []call
	for _, c := range cases {
		calls = append(calls, call{Name: c.Name, Saisie: c.Saisie})
	}
	calls = append(calls,
		call{Name: "fault_invalid_key", Saisie: Saisie{Identifiant: "1111037734A", Annee: 2014}},
		call{Name: "fault_bad_date", Saisie: Saisie{Identifiant: "1111037734L", Nom: "Boulet", Prenom: "Amandine", DateNaissance: "28/11/1996"}},
	)
	batch := &batchArgs{AnneeUniversitaire: 2025}
	var batchWant []Case
	for _, c := range batchCases(t) {
		batch.Identifiant = append(batch.Identifiant, c.Saisie.Identifiant)
		batchWant = append(batchWant, c)
	}
	batch.Identifiant = append(batch.Identifiant, "1111037734M")
	tooMany := &batchArgs{Identifiant: make([]string, 1001)}
	for i := range tooMany.Identifiant {
		tooMany.Identifiant[i] = "2000000011F"
	}
	calls = append(calls, call{Name: "lot", Batch: batch}, call{Name: "fault_lot_too_many", Batch: tooMany})
	b, err := json.Marshal(calls)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "cases.json")
	require.NoError(t, os.WriteFile(path, b, 0o644))

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "consulter.js", e.url, path)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "node consulter.js: %s", stderr.String())

	var results []nodeResult
	require.NoError(t, json.Unmarshal(out, &results), "%s", out)
	require.Len(t, results, len(calls))
	byName := map[string]nodeResult{}
	for _, r := range results {
		byName[r.Name] = r
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r := byName[c.Name]
			require.Nil(t, r.Fault, "fault: %+v", r.Fault)
			require.NotNil(t, r.Result)
			assert.Equal(t, c.Want, *r.Result)
		})
	}
	t.Run("lot", func(t *testing.T) {
		r := byName["lot"]
		require.Nil(t, r.Fault, "fault: %+v", r.Fault)
		require.NotNil(t, r.Batch)
		require.Len(t, r.Batch.Reponses, len(batchWant)+1)
		for i, c := range batchWant {
			var got Reponse
			require.NoError(t, json.Unmarshal(r.Batch.Reponses[i], &got))
			assert.Equal(t, c.Want, got, c.Name)
		}
		var last struct {
			Identifiant string `json:"identifiant"`
			Erreur      struct{ Code, Message string }
		}
		require.NoError(t, json.Unmarshal(r.Batch.Reponses[len(batchWant)], &last))
		assert.Equal(t, "1111037734M", last.Identifiant)
		assert.Equal(t, "INVALID_INPUT", last.Erreur.Code)
		assert.Contains(t, last.Erreur.Message, "identifiant: key:")
	})
	for name, want := range map[string]string{
		"fault_invalid_key":  "identifiant: key:",
		"fault_bad_date":     "dateNaissance: must be a date YYYY-MM-DD",
		"fault_lot_too_many": "identifiant: at most 1000 identifiant elements per batch",
	} {
		t.Run(name, func(t *testing.T) {
			r := byName[name]
			require.NotNil(t, r.Fault, "no fault: %+v", r.Result)
			assert.Equal(t, 500, r.Fault.Status)
			assert.Equal(t, "soap:Client", r.Fault.FaultCode)
			assert.Contains(t, r.Fault.FaultString, want)
			assert.Equal(t, "INVALID_INPUT", r.Fault.Code)
			assert.Equal(t, r.Fault.FaultString, r.Fault.Message)
		})
	}
}

// tail is the end of a command's output, for a message.
func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}
