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
	return pgshEnv(t, nil, args...)
}

func pgshEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repo(), "scripts", "pg.sh"), args...)
	cmd.Env = append(append(os.Environ(), "PG_FSYNC=off"), env...)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("pg.sh %v: %v\n%s", args, err, ee.Stderr)
	}
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// cluster is a PostgreSQL cluster of the test's own, made by scripts/pg.sh.
type cluster struct {
	dir  string
	url  string
	port int // of its unix socket, and of the loopback once it listens there
}

func (c *cluster) env() []string {
	if c.port == 0 {
		return nil
	}
	return []string{"PGPORT_LOCAL=" + strconv.Itoa(c.port)}
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{dir: filepath.Join(tempDir(t), "pg")}
	c.url = pgsh(t, "start", c.dir)
	t.Cleanup(func() { pgshEnv(t, c.env(), "destroy", c.dir) })
	return c
}

func (c *cluster) stop(t *testing.T)  { pgshEnv(t, c.env(), "stop", c.dir) }
func (c *cluster) start(t *testing.T) { pgshEnv(t, c.env(), "start", c.dir) }

// overTCP makes c listen on a free port of the loopback too, as a server on
// another host does, and returns the URL that reaches it there. A server
// that dies leaves a TCP connection half-open: a query written on it is
// answered by an EOF or a reset, not by the broken pipe of a unix socket.
func (c *cluster) overTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c.port = l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	f, err := os.OpenFile(filepath.Join(c.dir, "data", "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	fmt.Fprintf(f, "\nlisten_addresses = '127.0.0.1'\nport = %d\n", c.port)
	require.NoError(t, f.Close())
	c.pgctl(t, "restart", "-m", "fast")
	c.url = pgshEnv(t, c.env(), "url", c.dir)
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/aglae?sslmode=disable", c.port)
}

// asOwner is a command run as the clusters' owner: postgres when we are
// root, ourselves otherwise.
func asOwner(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		cmd.Dir = "/"
		return cmd
	}
	return exec.Command(name, args...)
}

// pgBin is the newest PostgreSQL server's binary folder.
func pgBin() string {
	return strings.TrimSpace(string(must(exec.Command("sh", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1").Output())))
}

// pgctl runs pg_ctl on c, waiting for the action to complete.
func (c *cluster) pgctl(t *testing.T, action string, args ...string) {
	t.Helper()
	args = append([]string{action, "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60"}, args...)
	out, err := asOwner(filepath.Join(pgBin(), "pg_ctl"), args...).CombinedOutput()
	require.NoError(t, err, "pg_ctl %s: %s", action, out)
}

// accepting waits until c accepts connections and answers a query.
func (c *cluster) accepting(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		return exec.Command("psql", c.url, "-Atc", "SELECT 1").Run() == nil
	}, 30*time.Second, 50*time.Millisecond, "the database accepts connections again")
}

// lookups sends n lookups from 4 workers, by identifier alone (GET, the
// coalesced path) and with an identity (POST, one query each) in turn, and
// returns the count of each status that is not 200.
func lookups(t *testing.T, addr, secret string, n int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	bad := map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	c := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				var req *http.Request
				if i%2 == 0 {
					req, _ = http.NewRequest(http.MethodGet, "http://"+addr+"/v1/boursiers/2000000011F?annee=2025", nil)
				} else {
					req, _ = http.NewRequest(http.MethodPost, "http://"+addr+"/v1/consultations", strings.NewReader(
						`{"identifiant":"2000000011F","anneeUniversitaire":2025,"nom":"Okonkwo","prenom":"Chiamaka","dateNaissance":"2006-06-06"}`))
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer "+secret)
				status := 0 // no answer
				if res, err := c.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				if status != http.StatusOK {
					mu.Lock()
					bad[status]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return bad
}

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
// load, in immediate mode (the server drops its connections without a
// word, as in a crash): every lookup is answered within its deadline, 503
// while the database is away and never 500, /readyz turns false, and the
// service recovers by itself when the database returns.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	pg := newCluster(t)
	secret := load(t, bin, pg.url)
	p := serve(t, bin, pg.overTCP(t), t.TempDir(), "LOOKUP_TIMEOUT=2s")

	stop := make(chan struct{})
	results := make(chan []result, 1)
	go func() { results <- hammer(p.addr, secret, 8, stop) }()
	time.Sleep(2 * time.Second)

	down := time.Now()
	pg.pgctl(t, "stop", "-m", "immediate")
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
	statuses := map[int]int{}
	for _, r := range rs {
		require.NoError(t, r.err, "every request is answered")
		if r.took > slowest {
			slowest = r.took
		}
		statuses[r.status]++
		if r.status != http.StatusOK {
			// From the first request after the stop: the database is
			// away, not broken.
			assert.Equal(t, http.StatusServiceUnavailable, r.status, "a lookup started %s after the stop", r.at.Sub(down).Round(time.Millisecond))
		}
		switch {
		case r.at.After(down) && r.at.Before(up):
			during++
			if r.status != http.StatusOK {
				failedDuring++
				assert.Equal(t, http.StatusServiceUnavailable, r.status)
			}
		case r.at.After(recovered):
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
	t.Logf("outage 10 s: %d requests during it, %d answered 503, slowest answer %s; ready again %s after the database restarted; %d OK after; statuses %v",
		during, failedDuring, slowest.Round(time.Millisecond), recovered.Sub(up).Round(time.Millisecond), okAfter, statuses)
	require.NoError(t, p.stop(t))
}

// TestRestartCostsNoLookup restarts PostgreSQL (fast mode, as a routine
// restart does) under a warm pool: once the database is back, no lookup
// fails, though every pooled connection is dead.
func TestRestartCostsNoLookup(t *testing.T) {
	bin := buildBinary(t)
	pg := newCluster(t)
	secret := load(t, bin, pg.url)
	p := serve(t, bin, pg.overTCP(t), t.TempDir(), "LOOKUP_TIMEOUT=2s")
	for round := 0; round < 3; round++ {
		require.Empty(t, lookups(t, p.addr, secret, 100), "the warm-up")
	}
	for restart := 1; restart <= 3; restart++ {
		pg.pgctl(t, "restart", "-m", "fast")
		pg.accepting(t)
		bad := lookups(t, p.addr, secret, 100)
		assert.Empty(t, bad, "restart %d: statuses of the 100 lookups that followed, other than 200", restart)
		t.Logf("restart %d (fast): 100 lookups, non-200 statuses %v", restart, bad)
	}
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
	sigterm := time.Now()
	require.NoError(t, p.stop(t), "exit status 0")
	time.Sleep(500 * time.Millisecond)
	close(stop)
	rs := <-results

	// A request sent before SIGTERM must be answered 200. One sent after it
	// may find the listener closed: refused at dial, or reset when its
	// connection, completed by the kernel, was still waiting in the backlog
	// as the listener closed; either way it never reached the service. Any
	// answer the service did give must be a 200.
	var ok, refused, failed int
	for _, r := range rs {
		switch {
		case r.err == nil && r.status == http.StatusOK:
			ok++
		case r.err != nil && (r.dialErr || !r.at.Before(sigterm)):
			refused++
		default:
			failed++
			t.Logf("failed: sent %v after SIGTERM, status %d, %v", r.at.Sub(sigterm), r.status, r.err)
		}
	}
	assert.Positive(t, ok)
	assert.Zero(t, failed, "requests sent before SIGTERM, or answered after it")
	t.Logf("SIGTERM under load (16 workers): %d answered, %d failed, %d refused or reset after SIGTERM", ok, failed, refused)
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
	if os.Geteuid() == 0 {
		require.NoError(t, exec.Command("chown", "-R", "postgres:", base).Run())
	}
	out, err := asOwner(filepath.Join(pgBin(), "pg_basebackup"), "-h", primary.dir, "-p", "5432", "-U", "postgres",
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

	// A routine restart of the standby costs no lookup.
	require.Empty(t, lookups(t, p.addr, secret, 100), "the warm-up")
	replica.pgctl(t, "restart", "-m", "fast")
	replica.accepting(t)
	bad := lookups(t, p.addr, secret, 100)
	assert.Empty(t, bad, "statuses other than 200 after the standby's restart")
	t.Logf("standby restarted (fast): 100 lookups, non-200 statuses %v", bad)

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
	bad = lookups(t, p.addr, secret, 100)
	assert.Empty(t, bad, "statuses other than 200 once the standby is down")
	t.Logf("failover to the primary: 100 lookups, non-200 statuses %v, answered %s after the standby stopped", bad, time.Since(t0).Round(time.Millisecond))

	// The standby comes back, the primary crashes and the standby is
	// promoted: lookups go on from the new primary.
	replica.start(t)
	replica.accepting(t)
	require.Empty(t, lookups(t, p.addr, secret, 100), "lookups with both up")
	t0 = time.Now()
	primary.pgctl(t, "stop", "-m", "immediate")
	replica.pgctl(t, "promote")
	replica.accepting(t)
	t.Logf("primary crashed and standby promoted in %s", time.Since(t0).Round(time.Millisecond))
	bad = lookups(t, p.addr, secret, 100)
	assert.Empty(t, bad, "statuses other than 200 after the standby's promotion")
	t.Logf("promotion: 100 lookups, non-200 statuses %v", bad)
	require.NoError(t, p.stop(t))
}
