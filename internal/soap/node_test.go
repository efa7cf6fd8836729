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
)

// nodeResult is what testdata/node/consulter.js prints for one case.
type nodeResult struct {
	Name   string   `json:"name"`
	Result *Reponse `json:"result"`
	Fault  *struct {
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
// faults node-soap parses. It needs node on PATH, and installs node-soap
// into testdata/node (npm ci) the first time.
func TestNodeSoapInterop(t *testing.T) {
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
	cases := loadCases(t)
	type call struct {
		Name   string `json:"name"`
		Saisie Saisie `json:"saisie"`
	}
	var calls []call
	for _, c := range cases {
		calls = append(calls, call{c.Name, c.Saisie})
	}
	calls = append(calls,
		call{"fault_invalid_key", Saisie{Identifiant: "1111037734A", Annee: 2014}},
		call{"fault_bad_date", Saisie{Identifiant: "1111037734L", Nom: "Boulet", Prenom: "Amandine", DateNaissance: "28/11/1996"}},
	)
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
	for name, want := range map[string]string{
		"fault_invalid_key": "identifiant: key:",
		"fault_bad_date":    "dateNaissance: must be a date YYYY-MM-DD",
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
