package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/aglae-connector/aglae-connector/internal/ident"
)

func testKeys() *keys {
	return &keys{
		seed:    7,
		known:   []key{{"1111037734L", 2014, true}, {"2000000111P", 2025, true}, {"0123456789A", 2024, true}},
		unknown: []string{"9999999999Z", "8888888888Y"},
		annees:  []int{2023, 2024, 2025},
	}
}

func TestKeysAreDeterministicWithTenPercentAbsent(t *testing.T) {
	k := testKeys()
	const n = 100_000
	absent := 0
	for i := range uint64(n) {
		a, b := k.at(streamREST, i), k.at(streamREST, i)
		if a != b {
			t.Fatalf("draw %d differs: %v then %v", i, a, b)
		}
		if !a.known {
			absent++
			if a.annee < 2023 || a.annee > 2025 {
				t.Fatalf("absent draw with year %d", a.annee)
			}
		}
	}
	if share := float64(absent) / n; share < 0.09 || share > 0.11 {
		t.Errorf("absent share %.3f, want about 0.10", share)
	}
	same := 0
	for i := range uint64(1000) {
		if k.at(streamREST, i) == k.at(streamSOAP, i) {
			same++
		}
	}
	if same > 600 {
		t.Errorf("streams REST and SOAP agree on %d draws of 1000: not independent", same)
	}
}

func TestRandomBEAIsValid(t *testing.T) {
	r := newTestRand()
	for range 1000 {
		id := randomBEA(r)
		ine, err := ident.ParseINE(id)
		if err != nil || ine.Format != ident.FormatBEA {
			t.Fatalf("%s: %v (format %v)", id, err, ine.Format)
		}
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func TestQuantileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0.999, 999 * time.Millisecond}, {1, time.Second}, {0, time.Millisecond}} {
		if got := quantile(d, c.q); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("quantile of nothing is not 0")
	}
}

func TestTallyBoundsErrorKinds(t *testing.T) {
	tl := newTally()
	for i := range 50 {
		tl.add(time.Millisecond, "kind "+string(rune('A'+i)), "example")
	}
	tl.add(time.Millisecond, "", "")
	if len(tl.kinds) > maxKinds+1 {
		t.Errorf("%d kinds kept", len(tl.kinds))
	}
	if tl.n.Load() != 51 || tl.errs.Load() != 50 {
		t.Errorf("n %d errs %d", tl.n.Load(), tl.errs.Load())
	}
}

func TestCheckAnswer(t *testing.T) {
	known := key{"1111037734L", 2014, true}
	absent := key{"9999999999Z", 2014, false}
	for _, c := range []struct {
		k      key
		id     string
		annee  int
		statut string
		ok     bool
	}{
		{known, "1111037734L", 2014, "BOURSIER", true},
		{known, "1111037734L", 2014, "EN_ATTENTE", true},
		{known, "1111037734L", 2014, "INCONNU", false},
		{known, "1111037734L", 2015, "BOURSIER", false},
		{known, "2000000111P", 2014, "BOURSIER", false},
		{known, "1111037734L", 2014, "PEUT_ETRE", false},
		{absent, "9999999999Z", 2014, "INCONNU", true},
		{absent, "9999999999Z", 2014, "NON_BOURSIER", false},
	} {
		if got := checkAnswer(c.k, c.id, c.annee, c.statut); (got == "") != c.ok {
			t.Errorf("checkAnswer(%v, %s, %d, %s) = %q", c.k, c.id, c.annee, c.statut, got)
		}
	}
}

func TestCheckRESTFindsTheDrawAgain(t *testing.T) {
	b := &bench{keys: testKeys()}
	chk := b.checkREST(streamREST)
	answer := func(n uint64, statut string, code int) *vegeta.Result {
		k := b.keys.at(streamREST, n)
		body, _ := json.Marshal(map[string]any{"identifiant": k.id, "anneeUniversitaire": k.annee, "statut": statut})
		return &vegeta.Result{Code: uint16(code), Body: body, Headers: http.Header{"X-Request-Id": {requestID(n)}}}
	}
	for n := range uint64(200) {
		statut := "BOURSIER"
		if !b.keys.at(streamREST, n).known {
			statut = "INCONNU"
		}
		if kind, ex := chk(answer(n, statut, 200)); kind != "" {
			t.Fatalf("draw %d: %s (%s)", n, kind, ex)
		}
	}
	if kind, _ := chk(answer(3, "BOURSIER", 429)); kind != "HTTP 429" {
		t.Errorf("a 429 is %q", kind)
	}
	r := answer(3, "BOURSIER", 200)
	r.Headers.Set("X-Request-Id", requestID(4))
	if kind, _ := chk(r); kind == "" && b.keys.at(streamREST, 3) != b.keys.at(streamREST, 4) {
		t.Error("an answer to another request passed")
	}
	if kind, _ := chk(&vegeta.Result{Error: `Get "http://x/v1/boursiers/1111037734L": read tcp: connection reset by peer`}); kind != "transport: connection reset by peer" {
		t.Errorf("transport error kind %q", kind)
	}
}

func TestSOAPTemplateAndCheck(t *testing.T) {
	root := filepath.Join("..", "..")
	tpl, err := loadSOAPTemplate(root)
	if err != nil {
		t.Fatal(err)
	}
	k := key{"2000000111P", 2025, true}
	env := string(tpl.envelope(k))
	want, _ := os.ReadFile(filepath.Join(root, "testdata/soap/consulterBoursier.xml"))
	if got := strings.NewReplacer("2000000111P", "1111037734L", "2025", "2014").Replace(env); got != string(want) {
		t.Errorf("envelope:\n%s\nwant the test data's with the identifier and year replaced", env)
	}

	b := &bench{keys: &keys{seed: 1, known: []key{k}, unknown: []string{"9999999999Z"}, annees: []int{2025}}}
	chk := b.checkSOAP(streamSOAP)
	var n uint64
	for b.keys.at(streamSOAP, n) != k {
		n++
	}
	body := `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><consulterBoursierResponse xmlns="urn:aglae-connector:connecteur:1"><reponse><identifiant>2000000111P</identifiant><anneeUniversitaire>2025</anneeUniversitaire><statut>BOURSIER</statut></reponse></consulterBoursierResponse></soap:Body></soap:Envelope>`
	r := &vegeta.Result{Code: 200, Body: []byte(body), Headers: http.Header{"X-Request-Id": {requestID(n)}}}
	if kind, ex := chk(r); kind != "" {
		t.Errorf("%s (%s)", kind, ex)
	}
	r.Body = bytes.Replace(r.Body, []byte("BOURSIER"), []byte("INCONNU"), 1)
	if kind, _ := chk(r); kind == "" {
		t.Error("INCONNU for an existing dossier passed")
	}
}

func TestRecheckBatchesAndCheckBatch(t *testing.T) {
	k := testKeys()
	batches := recheckBatches(k, 5000)
	total := 0
	for _, b := range batches {
		if len(b) == 0 || len(b) > batchSize {
			t.Fatalf("batch of %d", len(b))
		}
		for _, x := range b {
			if x.annee != b[0].annee {
				t.Fatalf("a batch mixes %d and %d", b[0].annee, x.annee)
			}
		}
		total += len(b)
	}
	if total != 5000 {
		t.Fatalf("%d identifiers in the batches, want 5000", total)
	}

	batch := batches[0]
	type item struct {
		Identifiant        string `json:"identifiant"`
		AnneeUniversitaire int    `json:"anneeUniversitaire,omitempty"`
		Statut             string `json:"statut,omitempty"`
		Erreur             any    `json:"erreur,omitempty"`
	}
	answer := func(mutate func([]item)) []byte {
		items := make([]item, len(batch))
		for i, x := range batch {
			items[i] = item{Identifiant: x.id, AnneeUniversitaire: x.annee, Statut: "INCONNU"}
			if x.known {
				items[i].Statut = "EN_ATTENTE"
			}
		}
		if mutate != nil {
			mutate(items)
		}
		b, _ := json.Marshal(map[string]any{"anneeUniversitaire": batch[0].annee, "reponses": items})
		return b
	}
	tl := newTally()
	if wrong := checkBatch(batch, 200, answer(nil), time.Millisecond, tl); wrong != 0 || tl.errs.Load() != 0 {
		t.Fatalf("a right batch: %d wrong, %v", wrong, tl.kinds)
	}
	wrong := checkBatch(batch, 200, answer(func(it []item) {
		it[0], it[1] = it[1], it[0] // out of order
		it[2] = item{Identifiant: it[2].Identifiant, Erreur: map[string]string{"type": "x", "detail": "y"}}
	}), time.Millisecond, tl)
	if wrong < 1 || tl.errs.Load() != 1 {
		t.Errorf("a wrong batch: %d wrong identifiers, %d failed batches", wrong, tl.errs.Load())
	}
	if wrong := checkBatch(batch, 200, answer(func(it []item) {}), 0, newTally()); wrong != 0 {
		t.Error("unchanged answer judged wrong")
	}
	if wrong := checkBatch(batch, 500, []byte(`{}`), 0, newTally()); wrong != int64(len(batch)) {
		t.Errorf("a 500 counts %d wrong identifiers", wrong)
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics(`# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
aglae_consultations_lost_total 0
aglae_http_requests_total{route="/v1/boursiers/{identifiant}",code="200",statut="BOURSIER"} 10
aglae_http_requests_total{route="/ws/connecteur",code="200",statut="INCONNU"} 5
process_resident_memory_bytes 2.5e+07
`)
	if m["go_goroutines"] != 42 || m["aglae_http_requests_total"] != 15 || m["process_resident_memory_bytes"] != 25e6 {
		t.Errorf("%v", m)
	}
	if _, ok := m["aglae_consultations_lost_total"]; !ok {
		t.Error("lost_total missing")
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--dossiers", "20000", "--duration", "3s", "--phases", "soap,plain", "--annees", "2025,2024"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.dossiers != 20000 || cfg.duration != 3*time.Second || strings.Join(cfg.phases, ",") != "plain,soap" ||
		len(cfg.annees) != 2 || cfg.annees[0] != 2024 || cfg.flags["recheck"] != "750000" {
		t.Errorf("%+v", cfg)
	}
	for _, bad := range [][]string{{"--phases", "nope"}, {"--connections", "0"}, {"--annees", "1990"}, {"extra"}} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	if a, _ := parseAnnees("", now); len(a) != 3 || a[2] != 2026 || a[0] != 2024 {
		t.Errorf("default years %v", a)
	}
}

func TestEvaluate(t *testing.T) {
	r := &report{
		Phases: []*phaseResult{
			{Name: phasePlain, Status: "ok", loadFigures: loadFigures{RequestsPerSecond: 30000}},
			{Name: phaseDB, Status: "ok", loadFigures: loadFigures{RequestsPerSecond: 40000}},
			{Name: phaseREST, Status: "ok", loadFigures: loadFigures{RequestsPerSecond: 16000, LatencyMs: latency{P99: 8}}, Connections: 64,
				Memory: &memoryUse{PeakRSSMiB: 30}},
			{Name: phaseSOAP, Status: "ok", loadFigures: loadFigures{RequestsPerSecond: 14000, LatencyMs: latency{P99: 12}}, Connections: 64},
		},
		Recheck: &recheckResult{Status: "ok", Identifiers: 750_000, Seconds: 10, IdentifiersPerSecond: 75_000},
		Import:  &importResult{Dossiers: 1_000_000, Seconds: 70, DossiersPerSecond: 14286},
	}
	r.evaluate()
	if r.Ratios["rest_over_plain"] != 0.533 || r.Ratios["soap_over_rest"] != 0.875 {
		t.Errorf("ratios %v", r.Ratios)
	}
	met := map[string]bool{}
	for _, tc := range r.Targets {
		if tc.Met != nil {
			met[tc.Target] = *tc.Met
		}
	}
	want := map[string]bool{
		"REST ≥ 50 % of the plainest handler": true, "SOAP ≥ 90 % of REST": false,
		"REST p99 ≤ 10 ms at 64 connections": true, "SOAP p99 ≤ 10 ms at 64 connections": false,
		"service RSS ≤ 40 MiB under load": true, "re-check of 750,000 identifiers < 15 s": true,
		"import of 1,000,000 dossiers < 60 s": false,
	}
	for k, v := range want {
		if got, ok := met[k]; !ok || got != v {
			t.Errorf("%s: met %v (present %v), want %v", k, got, ok, v)
		}
	}
}

func TestProcReaders(t *testing.T) {
	pid := os.Getpid()
	rss, hwm, err := memory(pid)
	if err != nil || rss <= 0 || hwm < rss {
		t.Errorf("memory: rss %d hwm %d err %v", rss, hwm, err)
	}
	ppid, _, err := procStat(pid)
	if err != nil || ppid != os.Getppid() {
		t.Errorf("procStat: ppid %d (want %d) err %v", ppid, os.Getppid(), err)
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 8s test @ http://127.0.0.1:18080/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    3.00ms  62.93ms   90.64%
    Req/Sec     6.51k     0.90k    7.42k    70.64%
  Latency Distribution
     50%    4.20ms
     75%    6.01ms
     90%    8.50ms
     99%    1.20s
  104932 requests in 8.10s, 22.98MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  12954.57
Transfer/sec:      1.04MB
`
	w, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 104932, errors: 7, seconds: 8.1, rps: 12954.57,
		latency: latency{Mean: 5.12, P50: 4.2, P90: 8.5, P99: 1200}}
	if w != want {
		t.Errorf("parseWrk = %+v, want %+v", w, want)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("parseWrk accepted a report without figures")
	}
}
