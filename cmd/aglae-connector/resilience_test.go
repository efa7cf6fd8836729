//go:build resilience

// The resilience tests stop and restart real PostgreSQL clusters of their
// own: `make test-resilience` runs them (CI too).
package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repo is the repository's root.
func repo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// cluster is a PostgreSQL cluster of the test's own, made by scripts/pg.sh.
type cluster struct {
	dir string
	url string
}

func tempDir(t *testing.T) string {
	t.Helper()
	// Not t.TempDir(): the postgres user must reach it when we are root.
	d, err := os.MkdirTemp("/tmp", "aglae-resilience-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(d, 0o755))
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func pgsh(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repo(), "scripts", "pg.sh"), args...)
	cmd.Env = append(os.Environ(), "PG_FSYNC=off")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("pg.sh %v: %v\n%s", args, err, ee.Stderr)
	}
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{dir: filepath.Join(tempDir(t), "pg")}
	c.url = pgsh(t, "start", c.dir)
	t.Cleanup(func() { pgsh(t, "destroy", c.dir) })
	return c
}

func (c *cluster) stop(t *testing.T)  { pgsh(t, "stop", c.dir) }
func (c *cluster) start(t *testing.T) { pgsh(t, "start", c.dir) }

// run runs the binary with DATABASE_URL=url and returns its stdout.
func run(t *testing.T, bin, url, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("%v: %v\n%s", args, err, ee.Stderr)
	}
	require.NoError(t, err)
	return string(out)
}

// load prepares a database: migrated, testdata imported, one API client
// with a generous rate; it returns the client's secret.
func load(t *testing.T, bin, url string) string {
	t.Helper()
	run(t, bin, url, "", "migrate")
	b, err := os.ReadFile(filepath.Join(repo(), "testdata", "extract.jsonl"))
	require.NoError(t, err)
	run(t, bin, url, string(b), "import", "--quiet", "-")
	var c struct{ ID, Secret string }
	require.NoError(t, json.Unmarshal([]byte(run(t, bin, url, "", "clients", "add", "--nom", "charge", "--debit", "100000", "--rafale", "100000", "--json")), &c))
	return c.Secret
}

// result is one request of a load.
type result struct {
	at      time.Time
	took    time.Duration
	status  int
	err     error
	dialErr bool
}

// hammer sends lookups from n workers until stop is closed.
func hammer(addr, secret string, n int, stop <-chan struct{}) []result {
	var mu sync.Mutex
	var out []result
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/boursiers/2000000011F?annee=2025", nil)
				req.Header.Set("Authorization", "Bearer "+secret)
				start := time.Now()
				res, err := c.Do(req)
				r := result{at: start, took: time.Since(start), err: err}
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					r.status = res.StatusCode
				} else {
					var op *net.OpError
					r.dialErr = errors.As(err, &op) && op.Op == "dial"
				}
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func readyz(addr string) int {
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// TestDatabaseOutageUnderLoad stops the real PostgreSQL for 10 s under
// load: every lookup is answered within its deadline (503 while the
// database is away), /readyz turns false, and the service recovers by
// itself when the database returns.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	pg := newCluster(t)
	secret := load(t, bin, pg.url)
	p := serve(t, bin, pg.url, t.TempDir(), "LOOKUP_TIMEOUT=2s")

	stop := make(chan struct{})
	results := make(chan []result, 1)
	go func() { results <- hammer(p.addr, secret, 8, stop) }()
	time.Sleep(2 * time.Second)

	down := time.Now()
	pg.stop(t)
	time.Sleep(time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, readyz(p.addr), "readyz during the outage")
	time.Sleep(9 * time.Second)
	up := time.Now()
	pg.start(t)
	var recovered time.Time
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if readyz(p.addr) == http.StatusOK {
			recovered = time.Now()
			break
		}
	}
	require.False(t, recovered.IsZero(), "the service never became ready again")
	time.Sleep(3 * time.Second)
	close(stop)
	rs := <-results

	var during, failedDuring, okAfter, badAfter int
	var slowest time.Duration
	for _, r := range rs {
		require.NoError(t, r.err, "every request is answered")
		if r.took > slowest {
			slowest = r.took
		}
		switch {
		case r.at.After(down) && r.at.Before(up):
			during++
			if r.status != http.StatusOK {
				failedDuring++
				assert.Equal(t, http.StatusServiceUnavailable, r.status)
			}
		case r.at.After(recovered.Add(time.Second)):
			if r.status == http.StatusOK {
				okAfter++
			} else {
				badAfter++
			}
		}
	}
	assert.Less(t, slowest, 3*time.Second, "answered within the 2 s deadline (and a margin)")
	assert.Positive(t, failedDuring)
	assert.Positive(t, okAfter)
	assert.Zero(t, badAfter, "no stuck connection after recovery")
	t.Logf("outage 10 s: %d requests during it, %d answered 503, slowest answer %s; ready again %s after the database restarted; %d OK after",
		during, failedDuring, slowest.Round(time.Millisecond), recovered.Sub(up).Round(time.Millisecond), okAfter)
	require.NoError(t, p.stop(t))
}

// TestSIGTERMUnderLoad stops the service with SIGTERM under load: no
// request that reached it fails.
func TestSIGTERMUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	pg := newCluster(t)
	secret := load(t, bin, pg.url)
	p := serve(t, bin, pg.url, t.TempDir())

	stop := make(chan struct{})
	results := make(chan []result, 1)
	go func() { results <- hammer(p.addr, secret, 16, stop) }()
	time.Sleep(2 * time.Second)
	require.NoError(t, p.stop(t), "exit status 0")
	time.Sleep(500 * time.Millisecond)
	close(stop)
	rs := <-results

	var ok, refused, failed int
	for _, r := range rs {
		switch {
		case r.err == nil && r.status == http.StatusOK:
			ok++
		case r.dialErr:
			refused++ // after the listener closed: never reached the service
		default:
			failed++
			t.Logf("failed: status %d, %v", r.status, r.err)
		}
	}
	assert.Positive(t, ok)
	assert.Zero(t, failed, "in-flight requests at SIGTERM")
	t.Logf("SIGTERM under load (16 workers): %d answered, %d failed in flight, %d refused after the listener closed", ok, failed, refused)
}

// vmHWM is a process's peak resident memory in KiB.
func vmHWM(t *testing.T, pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			n, err := strconv.Atoi(strings.Fields(l)[1])
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestBurstIsShed bursts 10× the concurrency limit: the excess gets 503
// with Retry-After at once, memory stays bounded, and the service answers
// normally right after.
func TestBurstIsShed(t *testing.T) {
	bin := buildBinary(t)
	pg := newCluster(t)
	secret := load(t, bin, pg.url)
	const limit = 20
	p := serve(t, bin, pg.url, t.TempDir(), "MAX_IN_FLIGHT="+strconv.Itoa(limit))

	var ok, shed, other atomic.Int64
	tr := &http.Transport{MaxIdleConnsPerHost: 10 * limit}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 10*limit; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/v1/consultations", strings.NewReader(
					`{"identifiant":"2025D12345K","anneeUniversitaire":2025,"nom":"Okonkwo","prenom":"Chiamaka","dateNaissance":"2006-06-06"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+secret)
				res, err := c.Do(req)
				if err != nil {
					other.Add(1)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode == http.StatusOK:
					ok.Add(1)
				case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
					shed.Add(1)
				default:
					other.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	peak := vmHWM(t, p.cmd.Process.Pid)
	assert.Positive(t, ok.Load())
	assert.Zero(t, other.Load(), "only answers or 503 with Retry-After")
	assert.Less(t, peak, 100*1024, "peak RSS in KiB")
	for i := 0; i < 20; i++ {
		assert.Equal(t, http.StatusOK, lookup(t, p.addr, secret), "normal service right after the burst")
	}
	t.Logf("burst of %d requests × 20 (limit %d): %d answered, %d shed with 503, peak RSS %d KiB", 10*limit, limit, ok.Load(), shed.Load(), peak)
	require.NoError(t, p.stop(t))
}

// standby makes a streaming replica of primary with pg_basebackup and
// starts it.
func standby(t *testing.T, primary *cluster) *cluster {
	t.Helper()
	base := tempDir(t)
	s := &cluster{dir: filepath.Join(base, "pg")}
	require.NoError(t, os.MkdirAll(s.dir, 0o755))
	asOwner := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() == 0 {
			exec.Command("chown", "-R", "postgres:", base).Run()
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
		return exec.Command(name, args...)
	}
	bindir := strings.TrimSpace(string(must(exec.Command("sh", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1").Output())))
	out, err := asOwner(filepath.Join(bindir, "pg_basebackup"), "-h", primary.dir, "-p", "5432", "-U", "postgres",
		"-D", filepath.Join(s.dir, "data"), "-R", "-X", "stream", "-c", "fast").CombinedOutput()
	require.NoError(t, err, string(out))
	conf := filepath.Join(s.dir, "data", "postgresql.auto.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	fmt.Fprintf(f, "\nunix_socket_directories = '%s'\nhot_standby = on\n", s.dir)
	f.Close()
	s.url = pgsh(t, "start", s.dir)
	t.Cleanup(func() { pgsh(t, "destroy", s.dir) })
	return s
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestReadReplicas serves lookups from a streaming standby, keeps serving
// them when the primary stops, and fails over to the primary when the
// standby stops, with a read URL listing both hosts.
func TestReadReplicas(t *testing.T) {
	begin := time.Now()
	bin := buildBinary(t)
	primary := newCluster(t)
	secret := load(t, bin, primary.url)
	t.Logf("primary ready at %s", time.Since(begin).Round(time.Millisecond))
	replica := standby(t, primary)
	t.Logf("standby ready at %s", time.Since(begin).Round(time.Millisecond))
	defer func() { t.Logf("done at %s", time.Since(begin).Round(time.Millisecond)) }()

	// The standby has the data (streamed).
	require.Eventually(t, func() bool {
		cmd := exec.Command(bin, "check", "2000000011F", "--annee", "2025")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+replica.url)
		out, err := cmd.Output()
		return err == nil && strings.Contains(string(out), "BOURSIER")
	}, 20*time.Second, 200*time.Millisecond)

	read := fmt.Sprintf("host=%s,%s port=5432,5432 user=postgres dbname=aglae sslmode=disable target_session_attrs=prefer-standby",
		replica.dir, primary.dir)
	p := serve(t, bin, primary.url, t.TempDir(), "DATABASE_READ_URL="+read, "LOOKUP_TIMEOUT=2s")
	for i := 0; i < 10; i++ {
		require.Equal(t, http.StatusOK, lookup(t, p.addr, secret))
	}
	// The lookups were read on the standby.
	cmd := exec.Command("psql", replica.url, "-Atc", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aglae-connector'")
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.NotEqual(t, "0", strings.TrimSpace(string(out)), "connections on the standby")

	// The primary stops: lookups go on from the standby.
	t0 := time.Now()
	primary.stop(t)
	t.Logf("primary stopped in %s", time.Since(t0).Round(time.Millisecond))
	// Longer than the credentials' cache: the clients are read on the standby too.
	for end := time.Now().Add(8 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		assert.Equal(t, http.StatusOK, lookup(t, p.addr, secret), "lookups with the primary down")
	}
	assert.Equal(t, http.StatusOK, readyz(p.addr))

	// An instance that starts while the primary is down serves lookups too.
	q := serve(t, bin, primary.url, t.TempDir(), "DATABASE_READ_URL="+read, "LOOKUP_TIMEOUT=2s")
	assert.Equal(t, http.StatusOK, lookup(t, q.addr, secret), "an instance started during the primary's outage")
	require.NoError(t, q.stop(t))

	// The primary is back and the standby stops: lookups fail over to the primary.
	t0 = time.Now()
	primary.start(t)
	replica.stop(t)
	t.Logf("primary started and standby stopped in %s", time.Since(t0).Round(time.Millisecond))
	var ok int
	deadline := time.Now().Add(15 * time.Second)
	for ok < 20 && time.Now().Before(deadline) {
		if lookup(t, p.addr, secret) == http.StatusOK {
			ok++
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	assert.Equal(t, 20, ok, "lookups on the primary once the standby is down")
	t.Logf("failover to the primary: 20 lookups answered %s after the standby stopped", time.Since(t0).Round(time.Millisecond))
	require.NoError(t, p.stop(t))
}
