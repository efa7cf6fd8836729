package soap_test

import (
	"os/exec"
	"testing"
	"time"
)

// debianPython is Debian's interpreter, the one python3-zeep installs for
// (a python3 earlier on PATH, from pyenv or a virtualenv, may lack it).
const debianPython = "/usr/bin/python3"

// TestZeepClient calls the service through zeep (Debian's python3-zeep,
// installed when missing), a second independent client built from the
// served WSDL, with HTTP Basic credentials: every case of
// testdata/cases.json, a batch with an invalid identifier, the fault's code
// and a wrong password (401, whose soap:Client fault zeep reads).
func TestZeepClient(t *testing.T) {
	t.Parallel()
	start := time.Now()
	ensureDebianPackages(t, func() bool {
		return exec.Command(debianPython, "-c", "import zeep").Run() == nil
	}, "python3-zeep")
	s := startService(t)
	calls := writeCalls(t)
	out := runClient(t, repo("internal", "soap", "testdata", "zeep"), debianPython, "client.py", s.url, s.id, s.secret, calls)
	checkClientResults(t, out, true)
	t.Logf("zeep client test, tools included: %s", time.Since(start).Round(time.Second))
}
