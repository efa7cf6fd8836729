package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// The phases.
const (
	phasePlain   = "plain"
	phaseDB      = "db"
	phaseREST    = "rest"
	phaseSOAP    = "soap"
	phaseRecheck = "recheck"
)

// bench is one run: what setup made, what the phases use.
type bench struct {
	cfg        config
	rep        *report
	cl         *cleanups
	root, tmp  string
	cluster    *cluster
	pool       *postgres.Pool // the harness's own: sample, sizes, settings
	svc        *service
	keys       *keys
	creds      credentials
	bearer     string // the Authorization headers of REST and SOAP
	basic      string
	soap       soapTemplate
	server     *child // the service
	base       string // its URL
	metrics    string // its metrics address, soak only
	postmaster int
}

// run sets up, measures and tears down.
func run(ctx context.Context, cfg config, rep *report) error {
	cl := &cleanups{}
	defer cl.run()
	b := &bench{cfg: cfg, rep: rep, cl: cl}
	if err := b.setup(ctx); err != nil {
		return err
	}
	if cfg.soak > 0 {
		return b.runSoak(ctx)
	}
	for _, p := range cfg.phases {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		switch p {
		case phasePlain:
			err = b.plainPhase(ctx)
		case phaseDB:
			err = b.dbPhase(ctx)
		case phaseREST:
			b.addPhase(b.httpPhase(ctx, phaseREST, b.server, b.restLoad))
		case phaseSOAP:
			b.addPhase(b.httpPhase(ctx, phaseSOAP, b.server, b.soapLoad))
		case phaseWrk:
			err = b.wrkPhase(ctx)
		case phaseOpen:
			err = b.openPhase(ctx)
		case phaseRecheck:
			err = b.recheckPhase(ctx)
		case phaseInscriptions:
			err = b.inscriptionsPhase(ctx)
		}
		if err != nil {
			return fmt.Errorf("phase %s: %w", p, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.server.stop(30 * time.Second); err != nil {
		return fmt.Errorf("the service did not stop cleanly: %w", err)
	}
	return nil
}

// logf prints a progress line.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// setup makes the cluster, the data, the client and the running service.
func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.root, err = repoRoot(); err != nil {
		return err
	}
	b.rep.Git = gitRevision(ctx, b.root)
	if b.tmp, err = os.MkdirTemp("", "aglae-connector-bench."); err != nil {
		return err
	}
	keep := b.cfg.keep
	tmp := b.tmp
	b.cl.add("temporary folder", func() error {
		if keep {
			fmt.Fprintf(os.Stderr, "bench: --keep: the demo extract and the logs are in %s\n", tmp)
			return nil
		}
		return os.RemoveAll(tmp)
	})
	// The cluster's owner (postgres, when we are root) must reach it.
	if err := os.Chmod(b.tmp, 0o755); err != nil {
		return err
	}

	t := time.Now()
	if b.cluster, err = startCluster(ctx, b.root, filepath.Join(b.tmp, "pg"), keep, b.cl); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	b.postmaster = postmasterPID(b.cluster.dataDir)
	if b.pool, err = postgres.Open(ctx, b.cluster.url); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	b.cl.add("the harness's pool", func() error { b.pool.Close(); return nil })
	start := b.rep.Machine.LoadAverageStart
	b.rep.Machine = describeMachine(ctx, b.pool)
	b.rep.Machine.LoadAverageStart = start
	b.rep.Database.Fsync = setting(ctx, b.pool, "fsync")
	b.rep.Database.SynchronousCommit = setting(ctx, b.pool, "synchronous_commit")
	b.rep.Database.SharedBuffers = setting(ctx, b.pool, "shared_buffers")
	logf("machine: %d CPUs (%s), %d MiB, Go %s, PostgreSQL %s, load average %s", b.rep.Machine.CPUs, b.rep.Machine.CPUModel,
		b.rep.Machine.MemTotalMiB, b.rep.Machine.GoVersion, b.rep.Machine.PostgresVersion, start)
	if b.rep.Machine.busy() {
		logf("warning: the machine is busy (load average %s): the figures will be noisy", start)
	}
	logf("cluster started in %s: fsync=%s, synchronous_commit=%s (durability on, as in production), shared_buffers=%s",
		since(t), b.rep.Database.Fsync, b.rep.Database.SynchronousCommit, b.rep.Database.SharedBuffers)

	bin := b.cfg.bin
	if bin == "" {
		bin = filepath.Join(b.tmp, "aglae-connector")
		t = time.Now()
		if err := buildService(ctx, b.root, bin); err != nil {
			return fmt.Errorf("building the service: %w", err)
		}
		logf("service built in %s", since(t))
	} else if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	b.svc = newService(bin, b.root, b.cluster.url)

	if err := b.loadData(ctx); err != nil {
		return err
	}
	if b.creds, err = b.svc.addClient(ctx); err != nil {
		return fmt.Errorf("API client: %w", err)
	}
	b.bearer = "Bearer " + b.creds.Secret
	b.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(b.creds.ID+":"+b.creds.Secret))
	if b.soap, err = loadSOAPTemplate(b.root); err != nil {
		return err
	}

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	opts := serveOptions{listen: addr, spoolDir: filepath.Join(b.tmp, "spool"), log: filepath.Join(b.tmp, "serve.log")}
	if b.cfg.soak > 0 {
		if opts.metrics, err = freeAddr(); err != nil {
			return err
		}
		b.metrics = opts.metrics
	}
	if b.server, err = b.svc.serve(ctx, opts); err != nil {
		return err
	}
	server := b.server
	b.cl.add("service", func() error { return server.stop(30 * time.Second) })
	b.base = "http://" + addr
	logf("service listening on %s (access log in %s)", addr, opts.log)
	return nil
}

// loadData generates the demo extract, migrates, imports it (measured) and
// draws the identifiers.
func (b *bench) loadData(ctx context.Context) error {
	db := &b.rep.Database
	db.Dossiers, db.Annees = b.cfg.dossiers, b.cfg.annees
	file := filepath.Join(b.tmp, "demo.jsonl")
	t := time.Now()
	if err := b.svc.demo(ctx, file, b.cfg.dossiers, b.cfg.annees, b.cfg.seed); err != nil {
		return fmt.Errorf("demo extract: %w", err)
	}
	db.DemoSeconds = round(time.Since(t).Seconds(), 2)
	db.DemoFileBytes = fileSize(file)
	logf("%d demo dossiers over %v generated in %s (%.0f MiB)", b.cfg.dossiers, b.cfg.annees, since(t), mib(db.DemoFileBytes))
	if err := b.svc.migrate(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	logf("import: running")
	imp, err := b.svc.importFile(ctx, file, b.cfg.dossiers, b.postmaster)
	if err != nil {
		return err
	}
	b.rep.Import = imp
	logf("import: %d dossiers in %.1f s (%.0f dossiers/s), peak RSS %.1f MiB, %.1f s CPU, PostgreSQL %.1f s CPU; load average %s before, %s after",
		imp.Dossiers, imp.Seconds, imp.DossiersPerSecond, imp.PeakRSSMiB, imp.CPUSeconds, imp.PostgresCPUSeconds, imp.LoadBefore, imp.LoadAfter)

	db.SizeBytes, _ = postgres.DatabaseSize(ctx, b.pool)
	t = time.Now()
	if b.keys, err = loadKeys(ctx, b.pool, b.cfg.sample, b.cfg.annees, b.cfg.seed); err != nil {
		return err
	}
	db.Sample, db.Absent, db.AbsentShare = len(b.keys.known), len(b.keys.unknown), unknownPerMille/1000.0
	logf("database %.0f MiB; drawing from %d existing (identifier, year) pairs and %d absent INE-BEA (%d %%), read in %s",
		mib(db.SizeBytes), db.Sample, db.Absent, unknownPerMille/10, since(t))
	return nil
}

// addPhase records a phase and prints its line.
func (b *bench) addPhase(p *phaseResult) {
	b.rep.Phases = append(b.rep.Phases, p)
	logf("%s", phaseLine(p))
	if p.CPU != nil && p.CPU.MachineShare < starvedShare {
		logf("warning: %s used only %s of the machine's CPU: other processes took the rest", p.Name, pct(p.CPU.MachineShare))
	}
}

// loadFunc makes the targeter and the checker of a stream of draws.
type loadFunc func(stream uint64) (vegeta.Targeter, checker)

// httpPhase measures an HTTP server with vegeta in a closed loop: a warm-up,
// then --duration while the server's memory and everyone's CPU are
// measured.
func (b *bench) httpPhase(ctx context.Context, name string, server *child, load loadFunc) *phaseResult {
	spec := func(stream uint64, d time.Duration) loadSpec {
		tr, chk := load(stream)
		return loadSpec{targeter: tr, check: chk, connections: b.cfg.connections, duration: d}
	}
	if b.cfg.warmup > 0 {
		attack(ctx, spec(streamWarmup, b.cfg.warmup))
	}
	reset := resetPeak(server.pid())
	mem := sampleMemory(server.pid())
	cpu := startCPU(server.pid(), b.postmaster)
	t, el := attack(ctx, spec(phaseStream(name), b.cfg.duration))
	use := cpu.stop(t.n.Load())
	maxRSS, hwm := mem.stop()
	p := newPhase(name, b.cfg.connections, t, el)
	p.CPU = use
	p.Memory = &memoryUse{MaxRSSBytes: maxRSS, MaxRSSMiB: mib(maxRSS), PeakRSSBytes: hwm, PeakRSSMiB: mib(hwm), PeakIsThisPhase: reset}
	switch {
	case server.exited():
		p.Status, p.Detail = "failed", fmt.Sprintf("%s exited during the phase: %v", server.name, server.err)
	case ctx.Err() != nil:
		p.Status = "interrupted"
	}
	return p
}

func phaseStream(name string) uint64 {
	switch name {
	case phasePlain:
		return streamPlain
	case phaseREST:
		return streamREST
	case phaseSOAP:
		return streamSOAP
	}
	return streamWarmup
}

// newPhase makes a phase's result from its tally.
func newPhase(name string, conns int, t *tally, el time.Duration) *phaseResult {
	p := &phaseResult{
		Name: name, Status: "ok", Connections: conns, Seconds: round(el.Seconds(), 3),
		loadFigures: loadFigures{Requests: t.n.Load(), Errors: t.errs.Load(), LatencyMs: t.latencies()},
	}
	if el > 0 {
		p.RequestsPerSecond = round(float64(p.Requests)/el.Seconds(), 0)
	}
	if len(t.kinds) > 0 {
		p.ErrorKinds, p.ErrorExamples = t.kinds, t.examples
	}
	return p
}

// plainPhase measures the plainest handler (the HTTP ceiling).
func (b *bench) plainPhase(ctx context.Context) error {
	c, base, err := startPlain(ctx, b.tmp)
	if err != nil {
		return err
	}
	p := b.httpPhase(ctx, phasePlain, c, func(stream uint64) (vegeta.Targeter, checker) {
		return b.targeter(base, stream, b.setREST), checkPlain
	})
	if err := c.stop(10 * time.Second); err != nil && p.Status == "ok" {
		p.Status, p.Detail = "failed", err.Error()
	}
	b.addPhase(p)
	return nil
}

// checkPlain wants the fixed answer.
func checkPlain(r *vegeta.Result) (string, string) {
	if kind, example := checkStatus(r); kind != "" {
		return kind, example
	}
	if !bytes.Equal(r.Body, plainBody) {
		return "body: not the fixed answer", string(r.Body)
	}
	return "", ""
}

// requestID is the X-Request-Id of the n-th request of a phase: the
// service echoes it, so that the checker finds the draw again.
func requestID(n uint64) string { return "bench-" + strconv.FormatUint(n, 10) }

func parseRequestID(s string) (uint64, bool) {
	v, ok := strings.CutPrefix(s, "bench-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// setREST makes t the n-th REST lookup of k: GET
// base/v1/boursiers/{id}?annee=Y with the Bearer secret.
func (b *bench) setREST(t *vegeta.Target, base string, k key, n uint64) {
	t.Method, t.Body = http.MethodGet, nil
	t.URL = base + "/v1/boursiers/" + k.id + "?annee=" + strconv.Itoa(k.annee)
	t.Header = http.Header{"Authorization": {b.bearer}, "X-Request-Id": {requestID(n)}}
}

// setSOAP makes t the n-th SOAP lookup of k: consulterBoursier posted to
// base/ws/connecteur with HTTP Basic.
func (b *bench) setSOAP(t *vegeta.Target, base string, k key, n uint64) {
	t.Method, t.URL, t.Body = http.MethodPost, base+"/ws/connecteur", b.soap.envelope(k)
	t.Header = http.Header{
		"Authorization": {b.basic}, "Content-Type": {"text/xml; charset=utf-8"},
		"Soapaction": {soapAction}, "X-Request-Id": {requestID(n)},
	}
}

// targeter draws the lookups of a stream and makes them with set.
func (b *bench) targeter(base string, stream uint64, set func(*vegeta.Target, string, key, uint64)) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		i := n.Add(1) - 1
		set(t, base, b.keys.at(stream, i), i)
		return nil
	}
}

func (b *bench) restLoad(stream uint64) (vegeta.Targeter, checker) {
	return b.targeter(b.base, stream, b.setREST), b.checkREST(stream)
}

// checkREST wants a 200 whose JSON answers the request's identifier and
// year with a statut that fits: INCONNU exactly for the absent ones.
func (b *bench) checkREST(stream uint64) checker {
	return func(r *vegeta.Result) (string, string) {
		n, kind, example := checkHead(r)
		if kind != "" {
			return kind, example
		}
		var a struct {
			Identifiant        string `json:"identifiant"`
			AnneeUniversitaire int    `json:"anneeUniversitaire"`
			Statut             string `json:"statut"`
		}
		if err := json.Unmarshal(r.Body, &a); err != nil {
			return "body: not JSON", string(r.Body)
		}
		if kind := checkAnswer(b.keys.at(stream, n), a.Identifiant, a.AnneeUniversitaire, a.Statut); kind != "" {
			return kind, string(r.Body)
		}
		return "", ""
	}
}

// checkHead judges what every answer must be, a 200 that echoes its
// request's X-Request-Id, and returns the request's number; kind is ""
// when it is.
func checkHead(r *vegeta.Result) (n uint64, kind, example string) {
	if kind, example := checkStatus(r); kind != "" {
		return 0, kind, example
	}
	n, ok := parseRequestID(r.Headers.Get("X-Request-Id"))
	if !ok {
		return 0, "X-Request-Id not echoed", r.Headers.Get("X-Request-Id")
	}
	return n, "", ""
}

// checkStatus wants a 200; kind is "" when it is one.
func checkStatus(r *vegeta.Result) (kind, example string) {
	if r.Code == 0 {
		return transportKind(r.Error), r.Error
	}
	if r.Code != http.StatusOK {
		return "HTTP " + strconv.Itoa(int(r.Code)), string(r.Body)
	}
	return "", ""
}

// checkAnswer judges an answer to k: "" when it fits.
func checkAnswer(k key, id string, annee int, statut string) string {
	switch {
	case id != k.id:
		return "body: another identifier's answer"
	case annee != k.annee:
		return "body: another year's answer"
	}
	switch bourse.Statut(statut) {
	case bourse.StatutBoursier, bourse.StatutEnAttente, bourse.StatutNonBoursier:
		if !k.known {
			return "body: an answer for an absent identifier"
		}
	case bourse.StatutInconnu:
		if k.known {
			return "body: INCONNU for an existing dossier"
		}
	default:
		return "body: unknown statut"
	}
	return ""
}

// soapTemplate is testdata/soap/consulterBoursier.xml cut around its
// identifier and year.
type soapTemplate struct{ before, between, after string }

func loadSOAPTemplate(root string) (soapTemplate, error) {
	const file = "testdata/soap/consulterBoursier.xml"
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return soapTemplate{}, err
	}
	before, rest, ok1 := strings.Cut(string(b), ">1111037734L<")
	between, after, ok2 := strings.Cut(rest, ">2014<")
	if !ok1 || !ok2 {
		return soapTemplate{}, fmt.Errorf("%s: no >1111037734L< then >2014< to replace", file)
	}
	return soapTemplate{before + ">", "<" + between + ">", "<" + after}, nil
}

func (s soapTemplate) envelope(k key) []byte {
	return []byte(s.before + k.id + s.between + strconv.Itoa(k.annee) + s.after)
}

const soapAction = `"urn:aglae-connector:connecteur:1/consulterBoursier"`

func (b *bench) soapLoad(stream uint64) (vegeta.Targeter, checker) {
	return b.targeter(b.base, stream, b.setSOAP), b.checkSOAP(stream)
}

// checkSOAP wants a 200 consulterBoursierResponse whose reponse answers the
// request.
func (b *bench) checkSOAP(stream uint64) checker {
	return func(r *vegeta.Result) (string, string) {
		n, kind, example := checkHead(r)
		if kind != "" {
			return kind, example
		}
		if !bytes.Contains(r.Body, []byte("<consulterBoursierResponse")) || !bytes.Contains(r.Body, []byte("<reponse>")) ||
			bytes.Contains(r.Body, []byte("Fault>")) {
			return "body: not a consulterBoursierResponse", string(r.Body)
		}
		annee, _ := strconv.Atoi(xmlText(r.Body, "anneeUniversitaire"))
		if kind := checkAnswer(b.keys.at(stream, n), xmlText(r.Body, "identifiant"), annee, xmlText(r.Body, "statut")); kind != "" {
			return kind, string(r.Body)
		}
		return "", ""
	}
}

// xmlText is the text of the first <name>…</name> of body (the answer's
// elements have no prefix); "" when absent.
func xmlText(body []byte, name string) string {
	open := []byte("<" + name + ">")
	i := bytes.Index(body, open)
	if i < 0 {
		return ""
	}
	rest := body[i+len(open):]
	j := bytes.Index(rest, []byte("</"+name+">"))
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// dbPhase measures the database ceiling: the engine's query from a pool
// opened as the service opens its own (same size), by --connections
// goroutines in a closed loop, without HTTP.
func (b *bench) dbPhase(ctx context.Context) error {
	pool, err := postgres.Open(ctx, b.cluster.url)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewStore(pool)
	loop := func(stream uint64, d time.Duration) (*tally, time.Duration) {
		var n atomic.Uint64
		tallies := make([]*tally, b.cfg.connections)
		start := time.Now()
		deadline := start.Add(d)
		var wg sync.WaitGroup
		for w := range tallies {
			t := newTally()
			tallies[w] = t
			wg.Go(func() {
				for ctx.Err() == nil && time.Now().Before(deadline) {
					i := n.Add(1) - 1
					k := b.keys.at(stream, i)
					t0 := time.Now()
					own, _, err := store.Dossiers(ctx, bourse.Query{Identifiant: k.id, Annee: k.annee})
					lat := time.Since(t0)
					if ctx.Err() != nil {
						break // interrupted: not the database's error
					}
					kind, example := checkDossiers(k, own, err)
					t.add(lat, kind, example)
				}
			})
		}
		wg.Wait()
		el := time.Since(start)
		all := newTally()
		for _, t := range tallies {
			all.merge(t)
		}
		return all, el
	}
	if b.cfg.warmup > 0 {
		loop(streamWarmup, b.cfg.warmup)
	}
	cpu := startCPU(0, b.postmaster)
	t, el := loop(streamDB, b.cfg.duration)
	p := newPhase(phaseDB, b.cfg.connections, t, el)
	p.CPU = cpu.stop(t.n.Load())
	p.PoolMaxConns = pool.Config().MaxConns
	p.Detail = fmt.Sprintf("%d goroutines over a pgx pool of %d connections, as the service's", b.cfg.connections, p.PoolMaxConns)
	if ctx.Err() != nil {
		p.Status = "interrupted"
	}
	b.addPhase(p)
	return nil
}

// checkDossiers judges what the store returned for k.
func checkDossiers(k key, own []bourse.Dossier, err error) (string, string) {
	if err != nil {
		return "query error", err.Error()
	}
	if k.known && len(own) == 0 {
		return "no dossier for an existing identifier", k.id
	}
	if !k.known && len(own) > 0 {
		return "dossiers for an absent identifier", k.id
	}
	for _, d := range own {
		if d.Identifiant != k.id || d.Annee != k.annee {
			return "another identifier's or year's dossier", d.NumeroDossier
		}
	}
	return "", ""
}

// The batch re-check.
const (
	batchPath = "/v1/consultations/lot"
	batchSize = 1000
)

type batchRequest struct {
	AnneeUniversitaire int      `json:"anneeUniversitaire"`
	Identifiants       []string `json:"identifiants"`
}

type batchResponse struct {
	AnneeUniversitaire int `json:"anneeUniversitaire"`
	Reponses           []struct {
		Identifiant        string `json:"identifiant"`
		AnneeUniversitaire int    `json:"anneeUniversitaire"`
		Statut             string `json:"statut"`
		Erreur             *struct {
			Type   string `json:"type"`
			Detail string `json:"detail"`
		} `json:"erreur"`
	} `json:"reponses"`
}

// recheckBatches draws n identifiers and cuts them into batches of one
// year each, at most batchSize long.
func recheckBatches(ks *keys, n int) [][]key {
	byYear := map[int][]key{}
	for i := range n {
		k := ks.at(streamRecheck, uint64(i))
		byYear[k.annee] = append(byYear[k.annee], k)
	}
	years := slices.Sorted(maps.Keys(byYear))
	var out [][]key
	for _, y := range years {
		ids := byYear[y]
		for len(ids) > 0 {
			m := min(batchSize, len(ids))
			out = append(out, ids[:m])
			ids = ids[m:]
		}
	}
	return out
}

// postBatch sends one batch and returns the status, the body and the
// latency.
func (b *bench) postBatch(ctx context.Context, client *http.Client, batch []key, reqID string) (int, []byte, time.Duration, error) {
	ids := make([]string, len(batch))
	for i, k := range batch {
		ids[i] = k.id
	}
	body, _ := json.Marshal(batchRequest{AnneeUniversitaire: batch[0].annee, Identifiants: ids})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+batchPath, bytes.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", b.bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", reqID)
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, time.Since(t0), err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), time.Since(t0), err
}

// checkBatch judges a batch's answer, identifier by identifier, into t
// (latency only on the first, so that t counts batches' latencies once).
func checkBatch(batch []key, status int, body []byte, lat time.Duration, t *tally) (wrong int64) {
	fail := func(kind, example string) int64 {
		t.add(lat, kind, example)
		return int64(len(batch))
	}
	if status != http.StatusOK {
		return fail("HTTP "+strconv.Itoa(status), string(body))
	}
	var resp batchResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return fail("body: not JSON", string(body))
	}
	if len(resp.Reponses) != len(batch) {
		return fail(fmt.Sprintf("body: %d answers for %d identifiers", len(resp.Reponses), len(batch)), truncate(string(body), 300))
	}
	if resp.AnneeUniversitaire != batch[0].annee {
		return fail("body: another year's batch", strconv.Itoa(resp.AnneeUniversitaire))
	}
	first := ""
	kinds := map[string]string{}
	for i, a := range resp.Reponses {
		var kind string
		switch {
		case a.Erreur != nil:
			kind = "erreur " + a.Erreur.Type
		default:
			annee := a.AnneeUniversitaire
			if annee == 0 {
				annee = resp.AnneeUniversitaire
			}
			kind = checkAnswer(batch[i], a.Identifiant, annee, a.Statut)
		}
		if kind != "" {
			wrong++
			if first == "" {
				first = kind
			}
			if _, ok := kinds[kind]; !ok {
				b, _ := json.Marshal(a)
				kinds[kind] = string(b)
			}
		}
	}
	if wrong == 0 {
		t.add(lat, "", "")
		return 0
	}
	t.add(lat, first, kinds[first])
	for k, ex := range kinds {
		if k != first {
			t.kinds[k]++
			if _, ok := t.examples[k]; !ok {
				t.examples[k] = ex
			}
		}
	}
	return wrong
}

// recheckPhase sends --recheck identifiers through the batch endpoint with
// a few parallel workers and times the whole.
func (b *bench) recheckPhase(ctx context.Context) error {
	r := &recheckResult{Workers: b.cfg.recheckWorkers, BatchSize: batchSize}
	defer func() { b.rep.Recheck = r; logf("%s", recheckLine(r)) }()
	if b.cfg.recheck == 0 {
		r.Status, r.Detail = "skipped", "--recheck 0"
		return nil
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: b.cfg.recheckWorkers}}
	defer client.CloseIdleConnections()

	// Is the endpoint there?
	probe := []key{b.keys.known[0]}
	status, body, _, err := b.postBatch(ctx, client, probe, "bench-probe")
	switch {
	case err != nil:
		return err
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		r.Status, r.Detail = "unavailable", fmt.Sprintf("POST %s answers %d: the service has no batch endpoint yet", batchPath, status)
		return nil
	}
	pt := newTally()
	if checkBatch(probe, status, body, 0, pt); pt.errs.Load() > 0 {
		r.Status = "failed"
		r.Detail = fmt.Sprintf("the probe batch got a wrong answer: %v: %s", slices.Sorted(maps.Keys(pt.kinds)), truncate(string(body), 300))
		return nil
	}

	batches := recheckBatches(b.keys, b.cfg.recheck)
	jobs := make(chan int)
	tallies := make([]*tally, b.cfg.recheckWorkers)
	var wrong atomic.Int64
	reset := resetPeak(b.server.pid())
	mem := sampleMemory(b.server.pid())
	cpu := startCPU(b.server.pid(), b.postmaster)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range tallies {
		t := newTally()
		tallies[w] = t
		wg.Go(func() {
			for i := range jobs {
				status, body, lat, err := b.postBatch(ctx, client, batches[i], "bench-lot-"+strconv.Itoa(i))
				if err != nil {
					if ctx.Err() == nil {
						t.add(lat, transportKind(err.Error()), err.Error())
						wrong.Add(int64(len(batches[i])))
					}
					continue
				}
				wrong.Add(checkBatch(batches[i], status, body, lat, t))
			}
		})
	}
	for i := range batches {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)
	all := newTally()
	for _, t := range tallies {
		all.merge(t)
	}
	maxRSS, hwm := mem.stop()
	r.Status = "ok"
	r.Identifiers, r.Batches = b.cfg.recheck, len(batches)
	r.Seconds = round(el.Seconds(), 3)
	r.IdentifiersPerSecond = round(float64(r.Identifiers)/el.Seconds(), 0)
	r.WrongIdentifiers, r.FailedBatches = wrong.Load(), all.errs.Load()
	r.BatchLatencyMs = all.latencies()
	if len(all.kinds) > 0 {
		r.ErrorKinds, r.ErrorExamples = all.kinds, all.examples
	}
	r.CPU = cpu.stop(int64(r.Identifiers))
	r.Memory = &memoryUse{MaxRSSBytes: maxRSS, MaxRSSMiB: mib(maxRSS), PeakRSSBytes: hwm, PeakRSSMiB: mib(hwm), PeakIsThisPhase: reset}
	switch {
	case b.server.exited():
		r.Status, r.Detail = "failed", fmt.Sprintf("the service exited during the re-check: %v", b.server.err)
	case ctx.Err() != nil:
		r.Status = "interrupted"
		return ctx.Err()
	}
	return nil
}

// runSoak sends REST and SOAP lookups, half each, open-loop at --rate for
// --soak, and reads the service's RSS and goroutines before, during and
// after.
func (b *bench) runSoak(ctx context.Context) error {
	s := &soakResult{Rate: b.cfg.rate, Seconds: b.cfg.soak.Seconds(), Mix: "REST GET and SOAP consulterBoursier, one each in turn"}
	b.rep.Soak = s
	snap := func(el time.Duration, t *tally) soakSample {
		rss, _, _ := memory(b.server.pid())
		x := soakSample{ElapsedSeconds: round(el.Seconds(), 1), RSSBytes: rss, RSSMiB: mib(rss)}
		if m, err := scrapeMetrics(ctx, b.metrics); err == nil {
			x.Goroutines = int(m["go_goroutines"])
			x.ConsultationsLost = int64(m["aglae_consultations_lost_total"])
		}
		if t != nil {
			x.Requests, x.Errors = t.n.Load(), t.errs.Load()
		}
		return x
	}
	// A few seconds at the rate first: pools and connections filled.
	if b.cfg.warmup > 0 {
		tr, chk := b.soakLoad(streamWarmup)
		attack(ctx, loadSpec{targeter: tr, check: chk, connections: b.cfg.connections, rate: b.cfg.rate, duration: b.cfg.warmup})
	}
	time.Sleep(time.Second) // the warm-up's connections closed
	s.Start = snap(0, nil)
	logf("soak: %d req/s for %s; start: RSS %.1f MiB, %d goroutines", b.cfg.rate, b.cfg.soak, s.Start.RSSMiB, s.Start.Goroutines)
	resetPeak(b.server.pid())
	mem := sampleMemory(b.server.pid())
	tr, chk := b.soakLoad(streamSoak)
	t, el := attack(ctx, loadSpec{
		targeter: tr, check: chk, connections: b.cfg.connections, rate: b.cfg.rate, duration: b.cfg.soak,
		every: min(max(b.cfg.soak/20, 5*time.Second), 30*time.Second),
		progress: func(el time.Duration, t *tally) {
			x := snap(el, t)
			s.Samples = append(s.Samples, x)
			logf("soak: %s: %d requests, %d errors, RSS %.1f MiB, %d goroutines", time.Duration(x.ElapsedSeconds*1e9),
				x.Requests, x.Errors, x.RSSMiB, x.Goroutines)
		},
	})
	// The last sample taken under load; then, the generator's connections
	// closed, the consultation log flushed, the service idle.
	if len(s.Samples) > 0 {
		s.EndUnderLoad = s.Samples[len(s.Samples)-1]
	} else {
		s.EndUnderLoad = snap(el, t)
	}
	time.Sleep(2 * time.Second)
	s.EndIdle = snap(el, t)
	maxRSS, hwm := mem.stop()
	s.MaxRSSMiB, s.PeakRSSMiB = mib(maxRSS), mib(hwm)
	p := newPhase("soak", b.cfg.connections, t, el)
	s.loadFigures = p.loadFigures
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.server.stop(30 * time.Second); err != nil {
		return fmt.Errorf("the service did not stop cleanly: %w", err)
	}
	return nil
}

// soakLoad alternates REST and SOAP: even draws go to REST, odd to SOAP.
func (b *bench) soakLoad(stream uint64) (vegeta.Targeter, checker) {
	var n atomic.Uint64
	restCheck, soapCheck := b.checkREST(stream), b.checkSOAP(stream)
	tr := func(t *vegeta.Target) error {
		i := n.Add(1) - 1
		if k := b.keys.at(stream, i); i%2 == 0 {
			b.setREST(t, b.base, k, i)
		} else {
			b.setSOAP(t, b.base, k, i)
		}
		return nil
	}
	chk := func(r *vegeta.Result) (string, string) {
		if r.Method == http.MethodGet {
			return restCheck(r)
		}
		return soapCheck(r)
	}
	return tr, chk
}

// scrapeMetrics reads the service's Prometheus metrics: each name's value,
// summed over its labels.
func scrapeMetrics(ctx context.Context, addr string) (map[string]float64, error) {
	if addr == "" {
		return nil, errors.New("no metrics listener")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	return parseMetrics(buf.String()), nil
}

// parseMetrics reads Prometheus's text format, summing each name's
// series.
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.IndexAny(line, "{ ")
		if i <= 0 {
			continue
		}
		name := line[:i]
		rest := line[i:]
		if rest[0] == '{' {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				continue
			}
			rest = rest[j+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[name] += v
		}
	}
	return out
}
