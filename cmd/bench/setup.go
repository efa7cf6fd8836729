package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const modulePath = "github.com/aglae-connector/aglae-connector"

// repoRoot is the folder of the module's go.mod, from the working folder
// up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the harness from the repository (no go.mod of " + modulePath + " above the working folder)")
		}
		dir = parent
	}
}

// cluster is the throwaway PostgreSQL cluster.
type cluster struct {
	dir     string // as given to scripts/pg.sh
	dataDir string // the real data folder
	url     string
}

// startCluster starts a cluster in dir with scripts/pg.sh, durability on
// (PG_FSYNC and PG_SYNCHRONOUS_COMMIT are left out of its environment), and
// registers its destruction.
func startCluster(ctx context.Context, root, dir string, keep bool, cl *cleanups) (*cluster, error) {
	env := withoutEnv(os.Environ(), "PG_FSYNC", "PG_SYNCHRONOUS_COMMIT", "PGPORT_LOCAL")
	cl.add("PostgreSQL cluster", func() error {
		if keep {
			u, _ := output(command(context.Background(), root, env, "scripts/pg.sh", "url", dir))
			fmt.Fprintf(os.Stderr, "bench: --keep: the cluster is still running: DATABASE_URL='%s'\n"+
				"       remove it with: scripts/pg.sh destroy %s\n", strings.TrimSpace(u), dir)
			return nil
		}
		_, err := output(command(context.Background(), root, env, "scripts/pg.sh", "destroy", dir))
		if _, statErr := os.Lstat(dir); err != nil && errors.Is(statErr, fs.ErrNotExist) {
			// The cluster is gone: earlier versions of pg.sh destroy exit 1
			// when DIR is not a symbolic link, though all went well.
			return nil
		}
		return err
	})
	out, err := output(command(ctx, root, env, "scripts/pg.sh", "start", dir))
	if err != nil {
		return nil, err
	}
	url := strings.TrimSpace(out)
	if url == "" {
		return nil, errors.New("scripts/pg.sh start printed no DATABASE_URL")
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	return &cluster{dir: dir, dataDir: filepath.Join(real, "data"), url: url}, nil
}

// withoutEnv returns env without the variables named.
func withoutEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if k == n {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// buildService builds ./cmd/aglae-connector as `make build` does.
func buildService(ctx context.Context, root, out string) error {
	env := append(os.Environ(), "CGO_ENABLED=0")
	_, err := output(command(ctx, root, env, "go", "build", "-trimpath", "-o", out, "./cmd/aglae-connector"))
	return err
}

// service runs the connector's commands against the cluster.
type service struct {
	bin  string
	root string
	env  []string // the environment of every command: DATABASE_URL set
}

func newService(bin, root, url string) *service {
	env := withoutEnv(os.Environ(), "DATABASE_URL", "LISTEN_ADDR", "METRICS_LISTEN", "SPOOL_DIR", "PUBLIC_URL",
		"TLS_CERT", "TLS_KEY", "TLS_CLIENT_CA", "RATE_LIMIT", "RATE_BURST", "LOG_LEVEL", "MAX_BODY_BYTES",
		"TRUST_FORWARDED_HEADERS", "LOOKUP_TIMEOUT", "READ_TIMEOUT", "WRITE_TIMEOUT", "IDLE_TIMEOUT")
	return &service{bin: bin, root: root, env: append(env, "DATABASE_URL="+url)}
}

func (s *service) command(ctx context.Context, args ...string) *exec.Cmd {
	return command(ctx, s.root, s.env, s.bin, args...)
}

// demo writes n demo dossiers over annees to file.
func (s *service) demo(ctx context.Context, file string, n int, annees []int, seed uint64) error {
	ys := make([]string, len(annees))
	for i, y := range annees {
		ys[i] = strconv.Itoa(y)
	}
	_, err := output(s.command(ctx, "demo", "--dossiers", strconv.Itoa(n), "--annees", strings.Join(ys, ","),
		"--seed", strconv.FormatUint(seed, 10), "--out", file))
	return err
}

func (s *service) migrate(ctx context.Context) error {
	_, err := output(s.command(ctx, "migrate"))
	return err
}

var importedRe = regexp.MustCompile(`import: (\d+) dossiers`)

// importFile imports file, measuring the wall time and the peak RSS of the
// import process: the highest VmHWM read every 100 ms, and the rusage of
// the finished process (the same figure, exact); the CPU PostgreSQL spent
// meanwhile, and the machine's load average before and after (other work
// on the machine makes the wall time vary).
func (s *service) importFile(ctx context.Context, file string, want int, postmaster int) (*importResult, error) {
	cmd := s.command(ctx, "import", file)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	loadBefore := loadAverage()
	pg := startBackendCPU(postmaster)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	mem := sampleMemory(cmd.Process.Pid)
	err := cmd.Wait()
	el := time.Since(start)
	_, hwm := mem.stop()
	pgCPU := pg.stop()
	if err != nil {
		return nil, fmt.Errorf("import: %w%s", err, indentTail(stderr.String(), 20))
	}
	res := &importResult{Dossiers: want, Seconds: round(el.Seconds(), 2),
		PostgresCPUSeconds: round(pgCPU.Seconds(), 2), LoadBefore: loadBefore, LoadAfter: loadAverage()}
	if m := importedRe.FindAllStringSubmatch(stderr.String(), -1); len(m) > 0 {
		res.Dossiers, _ = strconv.Atoi(m[len(m)-1][1])
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		hwm = max(hwm, ru.Maxrss<<10) // Maxrss is in KiB on Linux
		res.CPUSeconds = round(time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds(), 2)
	}
	res.PeakRSSBytes = hwm
	res.PeakRSSMiB = mib(hwm)
	res.DossiersPerSecond = round(float64(res.Dossiers)/el.Seconds(), 0)
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" {
			res.Log = append(res.Log, l)
		}
	}
	return res, nil
}

// credentials are an API client's.
type credentials struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// addClient creates the harness's API client. Its rate limit is far above
// what the machine can serve: the limiter runs, it never refuses.
func (s *service) addClient(ctx context.Context) (credentials, error) {
	out, err := output(s.command(ctx, "clients", "add", "--nom", "bench", "--debit", "1000000", "--rafale", "1000000", "--json"))
	if err != nil {
		return credentials{}, err
	}
	var c credentials
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == "" || c.Secret == "" {
		return credentials{}, fmt.Errorf("clients add --json printed %q", strings.TrimSpace(out))
	}
	return c, nil
}

// serveOptions say how to start the service.
type serveOptions struct {
	listen   string
	metrics  string // "" for off
	spoolDir string
	log      string
}

// serve starts `aglae-connector serve` with every feature on (access log at
// info, consultation log, access control, rate limits) and waits until
// /readyz answers.
func (s *service) serve(ctx context.Context, o serveOptions) (*child, error) {
	metrics := o.metrics
	if metrics == "" {
		metrics = "off"
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Dir = s.root
	cmd.Env = append(append([]string(nil), s.env...),
		"LISTEN_ADDR="+o.listen, "METRICS_LISTEN="+metrics, "SPOOL_DIR="+o.spoolDir, "LOG_LEVEL=info")
	c, err := startChild("service", cmd, o.log)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, "http://"+o.listen+"/readyz", c, 60*time.Second); err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	return c, nil
}

// waitReady polls url until it answers 200, c exits or timeout passes.
func waitReady(ctx context.Context, url string, c *child, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if c.exited() {
			return fmt.Errorf("%s exited before it was ready: %v%s", c.name, c.err, indentTail(tailFile(c.log), 15))
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready after %s%s", c.name, timeout, indentTail(tailFile(c.log), 15))
			}
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// fileSize is the size of a file, 0 when unknown.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// gitRevision describes the checkout: commit, and "-dirty" with local
// changes.
func gitRevision(ctx context.Context, root string) string {
	out, err := output(command(ctx, root, os.Environ(), "git", "describe", "--always", "--dirty", "--abbrev=12"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}
