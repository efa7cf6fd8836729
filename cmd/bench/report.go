package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// reportFormat is the version of the JSON report's layout.
const reportFormat = 1

// report is everything a run measured; it is written as JSON.
type report struct {
	Format       int                 `json:"format"`
	Mode         string              `json:"mode"` // bench or soak
	Started      time.Time           `json:"started"`
	Finished     time.Time           `json:"finished"`
	Git          string              `json:"git,omitempty"`
	Machine      machine             `json:"machine"`
	Flags        map[string]string   `json:"flags"`
	Database     database            `json:"database"`
	Import       *importResult       `json:"import,omitempty"`
	Phases       []*phaseResult      `json:"phases,omitempty"`
	Recheck      *recheckResult      `json:"recheck,omitempty"`
	Inscriptions *inscriptionsResult `json:"inscriptions,omitempty"`
	Ratios       map[string]float64  `json:"ratios,omitempty"`
	Targets      []targetCheck       `json:"targets,omitempty"`
	Soak         *soakResult         `json:"soak,omitempty"`
	Notes        []string            `json:"notes,omitempty"`
	Error        string              `json:"error,omitempty"`
}

type machine struct {
	CPUs            int    `json:"nproc"`
	CPUModel        string `json:"cpu_model"`
	MemTotalMiB     int64  `json:"mem_total_mib"`
	Kernel          string `json:"kernel"`
	GoVersion       string `json:"go_version"`
	PostgresVersion string `json:"postgres_version"`
	// The load average (1, 5, 15 min) before the run and at its end: other
	// work on the machine makes the figures noisy.
	LoadAverageStart string `json:"loadavg_start"`
	LoadAverageEnd   string `json:"loadavg_end"`
}

type database struct {
	Dossiers          int     `json:"dossiers"`
	Annees            []int   `json:"annees"`
	DemoSeconds       float64 `json:"demo_seconds"`
	DemoFileBytes     int64   `json:"demo_file_bytes"`
	SizeBytes         int64   `json:"size_bytes"`
	Fsync             string  `json:"fsync"`
	SynchronousCommit string  `json:"synchronous_commit"`
	SharedBuffers     string  `json:"shared_buffers"`
	Sample            int     `json:"sample_pairs"`
	Absent            int     `json:"absent_identifiers"`
	AbsentShare       float64 `json:"absent_share"`
}

type importResult struct {
	Dossiers          int     `json:"dossiers"`
	Seconds           float64 `json:"seconds"`
	DossiersPerSecond float64 `json:"dossiers_per_second"`
	PeakRSSBytes      int64   `json:"peak_rss_bytes"`
	PeakRSSMiB        float64 `json:"peak_rss_mib"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	// PostgresCPUSeconds is what the cluster's processes spent meanwhile,
	// the import's backends (ended since) included.
	PostgresCPUSeconds float64  `json:"postgres_cpu_seconds"`
	LoadBefore         string   `json:"load_before"` // /proc/loadavg's three figures
	LoadAfter          string   `json:"load_after"`
	Log                []string `json:"log,omitempty"`
}

type latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// memoryUse is a server's memory during a phase: the highest VmRSS read
// every 100 ms, and VmHWM at the end (reset at the phase's start when the
// kernel allows: then the peak is the phase's own).
type memoryUse struct {
	MaxRSSBytes     int64   `json:"max_rss_bytes"`
	MaxRSSMiB       float64 `json:"max_rss_mib"`
	PeakRSSBytes    int64   `json:"hwm_bytes"`
	PeakRSSMiB      float64 `json:"hwm_mib"`
	PeakIsThisPhase bool    `json:"hwm_reset_at_phase_start"`
}

// cpuUse is the CPU each process spent during a phase. Server is the
// measured HTTP server (the service, or the plain handler).
type cpuUse struct {
	ServerSeconds             float64 `json:"server_seconds"`
	PostgresSeconds           float64 `json:"postgres_seconds"`
	GeneratorSeconds          float64 `json:"generator_seconds"`
	ServerMicrosPerRequest    float64 `json:"server_us_per_request"`
	PostgresMicrosPerRequest  float64 `json:"postgres_us_per_request"`
	GeneratorMicrosPerRequest float64 `json:"generator_us_per_request"`
	// MachineShare is the share of all CPUs' time the three took: in a
	// closed loop it should be near 1; lower, other processes took the rest
	// and the figures are not the machine's.
	MachineShare float64 `json:"machine_share"`
}

// loadFigures are what a load gave, a phase's or the soak's; their
// members stand in the report among those of the result that embeds them.
type loadFigures struct {
	Requests          int64             `json:"requests"`
	Errors            int64             `json:"errors"`
	ErrorKinds        map[string]int64  `json:"error_kinds,omitempty"`
	ErrorExamples     map[string]string `json:"error_examples,omitempty"`
	RequestsPerSecond float64           `json:"requests_per_second"`
	LatencyMs         latency           `json:"latency_ms"`
}

type phaseResult struct {
	Name        string  `json:"name"`
	Status      string  `json:"status"` // ok or failed
	Detail      string  `json:"detail,omitempty"`
	Connections int     `json:"connections"`
	Seconds     float64 `json:"seconds"`
	loadFigures
	Memory       *memoryUse `json:"server_memory,omitempty"`
	CPU          *cpuUse    `json:"cpu,omitempty"`
	PoolMaxConns int32      `json:"pool_max_conns,omitempty"`
}

type recheckResult struct {
	Status               string            `json:"status"` // ok, unavailable, failed, skipped
	Detail               string            `json:"detail,omitempty"`
	Identifiers          int               `json:"identifiers"`
	BatchSize            int               `json:"batch_size"`
	Batches              int               `json:"batches"`
	Workers              int               `json:"workers"`
	Seconds              float64           `json:"seconds"`
	IdentifiersPerSecond float64           `json:"identifiers_per_second"`
	WrongIdentifiers     int64             `json:"wrong_identifiers"`
	FailedBatches        int64             `json:"failed_batches"`
	ErrorKinds           map[string]int64  `json:"error_kinds,omitempty"`
	ErrorExamples        map[string]string `json:"error_examples,omitempty"`
	BatchLatencyMs       latency           `json:"batch_latency_ms"`
	Memory               *memoryUse        `json:"server_memory,omitempty"`
	CPU                  *cpuUse           `json:"cpu,omitempty"` // per identifier
}

type soakSample struct {
	ElapsedSeconds    float64 `json:"elapsed_seconds"`
	Requests          int64   `json:"requests"`
	Errors            int64   `json:"errors"`
	RSSBytes          int64   `json:"rss_bytes"`
	RSSMiB            float64 `json:"rss_mib"`
	Goroutines        int     `json:"goroutines"`
	ConsultationsLost int64   `json:"consultations_lost"`
}

type soakResult struct {
	Rate    int     `json:"rate"`
	Seconds float64 `json:"seconds"`
	Mix     string  `json:"mix"`
	loadFigures
	MaxRSSMiB    float64      `json:"max_rss_mib"`
	PeakRSSMiB   float64      `json:"hwm_mib"`
	Start        soakSample   `json:"start"`
	EndUnderLoad soakSample   `json:"end_under_load"`
	EndIdle      soakSample   `json:"end_idle"`
	Samples      []soakSample `json:"samples,omitempty"`
}

// targetCheck is one target of issue 5 against this run.
type targetCheck struct {
	Target string `json:"target"`
	Value  string `json:"value"`
	Met    *bool  `json:"met,omitempty"` // absent: not measured
}

func newReport(cfg config) *report {
	mode := "bench"
	if cfg.soak > 0 {
		mode = "soak"
	}
	return &report{Format: reportFormat, Mode: mode, Started: time.Now(), Flags: cfg.flags,
		Machine: machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAverageStart: loadAverage()}}
}

// loadAverage is /proc/loadavg's three load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// busy says whether the load average before the run shows other work.
func (m machine) busy() bool {
	l1, _, _ := strings.Cut(m.LoadAverageStart, " ")
	v, err := strconv.ParseFloat(l1, 64)
	return err == nil && v >= 0.5
}

// describeMachine reads the machine's figures.
func describeMachine(ctx context.Context, pool *postgres.Pool) machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: cpuModel(), LoadAverageStart: loadAverage()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				m.MemTotalMiB = kb >> 10
			}
		}
		f.Close()
	}
	m.PostgresVersion = setting(ctx, pool, "server_version")
	return m
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// setting is a PostgreSQL setting's value, "" when unreadable.
func setting(ctx context.Context, pool *postgres.Pool, name string) string {
	return postgres.Setting(ctx, pool, name)
}

// starvedShare is the share of the machine's CPU under which a closed-loop
// phase is said to have been starved by other processes.
const starvedShare = 0.8

// starved lists the phases that used less than starvedShare of the CPUs.
func (r *report) starved() []string {
	var out []string
	for _, p := range r.Phases {
		if p.CPU != nil && p.CPU.MachineShare < starvedShare && !strings.HasSuffix(p.Name, "-open") {
			out = append(out, p.Name)
		}
	}
	return out
}

func (r *report) phase(name string) *phaseResult {
	for _, p := range r.Phases {
		if p.Name == name && p.Status == "ok" {
			return p
		}
	}
	return nil
}

// totalErrors counts the wrong or failed responses of the run.
func (r *report) totalErrors() int64 {
	var n int64
	for _, p := range r.Phases {
		n += p.Errors
	}
	if r.Recheck != nil {
		n += r.Recheck.WrongIdentifiers
	}
	if r.Soak != nil {
		n += r.Soak.Errors
		n += r.Soak.EndIdle.ConsultationsLost
	}
	return n
}

// evaluate computes the ratios and checks the targets of issue 5.
func (r *report) evaluate() {
	plain, db, rest, soap := r.phase(phasePlain), r.phase(phaseDB), r.phase(phaseREST), r.phase(phaseSOAP)
	r.Ratios = map[string]float64{}
	ratio := func(name string, a, b *phaseResult) {
		if a != nil && b != nil && b.RequestsPerSecond > 0 {
			r.Ratios[name] = round(a.RequestsPerSecond/b.RequestsPerSecond, 3)
		}
	}
	ratio("rest_over_plain", rest, plain)
	ratio("soap_over_rest", soap, rest)
	ratio("rest_over_db", rest, db)
	ratio("soap_over_plain", soap, plain)

	check := func(target, value string, met bool) {
		r.Targets = append(r.Targets, targetCheck{Target: target, Value: value, Met: &met})
	}
	if v, ok := r.Ratios["rest_over_plain"]; ok {
		check("REST ≥ 50 % of the plainest handler", pct(v), v >= 0.5)
	}
	if v, ok := r.Ratios["soap_over_rest"]; ok {
		check("SOAP ≥ 90 % of REST", pct(v), v >= 0.9)
	}
	for _, p := range []*phaseResult{rest, soap} {
		if p != nil {
			check(fmt.Sprintf("%s p99 ≤ 10 ms at %d connections", strings.ToUpper(p.Name), p.Connections),
				fmt.Sprintf("%.2f ms", p.LatencyMs.P99), p.LatencyMs.P99 <= 10)
		}
	}
	var peak float64
	for _, p := range []*phaseResult{rest, soap} {
		if p != nil && p.Memory != nil {
			peak = math.Max(peak, p.Memory.PeakRSSMiB)
		}
	}
	if rc := r.Recheck; rc != nil && rc.Status == "ok" && rc.Memory != nil {
		peak = math.Max(peak, rc.Memory.PeakRSSMiB)
	}
	if peak > 0 {
		check("service RSS ≤ 40 MiB under load", fmt.Sprintf("%.1f MiB", peak), peak <= 40)
	}
	if rc := r.Recheck; rc != nil && rc.Status == "ok" && rc.IdentifiersPerSecond > 0 {
		proj := 750_000 / rc.IdentifiersPerSecond
		v := fmt.Sprintf("%.1f s", proj)
		if rc.Identifiers != 750_000 {
			v += fmt.Sprintf(" (projected from %d in %.1f s)", rc.Identifiers, rc.Seconds)
		}
		if rc.Identifiers >= 750_000 {
			check("re-check of 750,000 identifiers < 15 s", v, proj < 15)
		} else {
			r.Targets = append(r.Targets, targetCheck{Target: "re-check of 750,000 identifiers < 15 s", Value: v})
		}
	} else if rc != nil {
		r.Targets = append(r.Targets, targetCheck{Target: "re-check of 750,000 identifiers < 15 s", Value: rc.Status})
	}
	if imp := r.Import; imp != nil && imp.DossiersPerSecond > 0 {
		proj := 1_000_000 / imp.DossiersPerSecond
		v := fmt.Sprintf("%.1f s, peak RSS %.1f MiB", proj, imp.PeakRSSMiB)
		if imp.Dossiers != 1_000_000 {
			v = fmt.Sprintf("%.1f s (projected from %d in %.1f s), peak RSS %.1f MiB", proj, imp.Dossiers, imp.Seconds, imp.PeakRSSMiB)
		}
		if imp.Dossiers >= 1_000_000 {
			check("import of 1,000,000 dossiers < 60 s", v, proj < 60)
		} else { // the merge does not scale linearly: no verdict from a smaller import
			r.Targets = append(r.Targets, targetCheck{Target: "import of 1,000,000 dossiers < 60 s", Value: v})
		}
	}
	r.evaluateLookups()
	if len(r.Targets) == 0 {
		return
	}
	r.Notes = append(r.Notes,
		"throughput over 1,000,000 dossiers ≥ 90 % of that over 10,000: compare this run with one at --dossiers 10000 (bench compare)",
		"the load generator shares the machine's CPUs with the server and PostgreSQL: see cpu.generator_us_per_request")
}

// evaluateLookups adds the goals of issue 12, item 4: the ratios by wrk,
// PostgreSQL's CPU per lookup and the open loop's p99.
func (r *report) evaluateLookups() {
	check := func(target, value string, met bool) {
		r.Targets = append(r.Targets, targetCheck{Target: target, Value: value, Met: &met})
	}
	ok := func(p *phaseResult) bool { return p != nil && p.Status == "ok" && p.RequestsPerSecond > 0 }
	plain, rest, soap := r.phase("wrk-plain"), r.phase("wrk-rest"), r.phase("wrk-soap")
	if ok(plain) && ok(rest) {
		v := rest.RequestsPerSecond / plain.RequestsPerSecond
		r.Ratios["wrk_rest_over_plain"] = round(v, 3)
		check("REST ≥ 0.30 × the plainest handler (wrk)", pct(v), v >= 0.30)
	}
	if ok(rest) && ok(soap) {
		v := soap.RequestsPerSecond / rest.RequestsPerSecond
		r.Ratios["wrk_soap_over_rest"] = round(v, 3)
		check("SOAP ≥ 0.9 × REST (wrk)", pct(v), v >= 0.9)
	}
	for _, name := range []string{phaseREST, phaseSOAP, "wrk-rest", "wrk-soap"} {
		if p := r.phase(name); ok(p) && p.CPU != nil {
			check(fmt.Sprintf("PostgreSQL CPU ≤ 45 µs per lookup (%s)", name),
				fmt.Sprintf("%.0f µs", p.CPU.PostgresMicrosPerRequest), p.CPU.PostgresMicrosPerRequest <= 45)
		}
	}
	for _, name := range []string{"rest-open", "soap-open"} {
		if p := r.phase(name); ok(p) {
			check(fmt.Sprintf("%s p99 ≤ 3 ms at %s", strings.ToUpper(strings.TrimSuffix(name, "-open")), strings.TrimPrefix(p.Detail, "open loop at ")),
				fmt.Sprintf("%.2f ms", p.LatencyMs.P99), p.LatencyMs.P99 <= 3)
		}
	}
}

func pct(v float64) string { return fmt.Sprintf("%.1f %%", v*100) }

// phaseLine is the one-line summary of a phase.
func phaseLine(p *phaseResult) string {
	s := fmt.Sprintf("%-7s %s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, %d errors",
		p.Name, p.Status, p.RequestsPerSecond, p.LatencyMs.P50, p.LatencyMs.P99, p.LatencyMs.P999, p.Errors)
	if p.Memory != nil {
		s += fmt.Sprintf(", RSS max %.1f MiB (peak %.1f)", p.Memory.MaxRSSMiB, p.Memory.PeakRSSMiB)
	}
	if len(p.ErrorKinds) > 0 {
		s += fmt.Sprintf(" %v", p.ErrorKinds)
	}
	if p.Detail != "" {
		s += " — " + p.Detail
	}
	return s
}

func recheckLine(r *recheckResult) string {
	if r.Status != "ok" {
		return fmt.Sprintf("recheck %s: %s", r.Status, r.Detail)
	}
	s := fmt.Sprintf("recheck ok: %d identifiers in %d batches by %d workers in %.2f s (%.0f identifiers/s), batch p50 %.1f ms p99 %.1f ms, %d wrong identifiers",
		r.Identifiers, r.Batches, r.Workers, r.Seconds, r.IdentifiersPerSecond, r.BatchLatencyMs.P50, r.BatchLatencyMs.P99, r.WrongIdentifiers)
	if len(r.ErrorKinds) > 0 {
		s += fmt.Sprintf(" %v", r.ErrorKinds)
	}
	return s
}

// printSummary prints the run's figures as tables.
func printSummary(w io.Writer, r *report) {
	fmt.Fprintf(w, "\n== %s, %s, %d CPUs (%s), Go %s, PostgreSQL %s (fsync=%s, synchronous_commit=%s)\n",
		r.Mode, r.Git, r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion, r.Machine.PostgresVersion,
		r.Database.Fsync, r.Database.SynchronousCommit)
	if imp := r.Import; imp != nil {
		fmt.Fprintf(w, "import   %d dossiers in %.1f s: %.0f dossiers/s, peak RSS %.1f MiB, %.1f s CPU, PostgreSQL %.1f s CPU, load average %s before, %s after (demo generation %.1f s, database %.0f MiB)\n",
			imp.Dossiers, imp.Seconds, imp.DossiersPerSecond, imp.PeakRSSMiB, imp.CPUSeconds, imp.PostgresCPUSeconds, imp.LoadBefore, imp.LoadAfter, r.Database.DemoSeconds, mib(r.Database.SizeBytes))
	}
	if len(r.Phases) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "phase\tconns\treq/s\tp50 ms\tp99 ms\tp99.9 ms\terrors\tRSS max MiB\tpeak MiB\tCPU µs/req: server\tpostgres\tgenerator\tCPU used\t")
		for _, p := range r.Phases {
			mem, peak := "-", "-"
			if p.Memory != nil {
				mem, peak = fmt.Sprintf("%.1f", p.Memory.MaxRSSMiB), fmt.Sprintf("%.1f", p.Memory.PeakRSSMiB)
			}
			srv, pg, gen, share := "-", "-", "-", "-"
			if c := p.CPU; c != nil {
				if p.Name != phaseDB {
					srv = fmt.Sprintf("%.0f", c.ServerMicrosPerRequest)
				}
				pg, gen = fmt.Sprintf("%.0f", c.PostgresMicrosPerRequest), fmt.Sprintf("%.0f", c.GeneratorMicrosPerRequest)
				share = pct(c.MachineShare)
			}
			name := p.Name
			if p.Status != "ok" {
				name += " (" + p.Status + ")"
			}
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, p.Connections, p.RequestsPerSecond,
				p.LatencyMs.P50, p.LatencyMs.P99, p.LatencyMs.P999, p.Errors, mem, peak, srv, pg, gen, share)
		}
		tw.Flush()
		if starved := r.starved(); len(starved) > 0 {
			fmt.Fprintf(w, "warning: %s used less than %s of the machine's CPU: other processes took the rest, "+
				"compare CPU µs/req rather than req/s\n", strings.Join(starved, ", "), pct(starvedShare))
		}
		for _, p := range r.Phases {
			for k, n := range p.ErrorKinds {
				fmt.Fprintf(w, "  %s: %d × %s, e.g. %s\n", p.Name, n, k, p.ErrorExamples[k])
			}
		}
	}
	if rc := r.Recheck; rc != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, recheckLine(rc))
		if rc.Status == "ok" && rc.Memory != nil && rc.CPU != nil {
			fmt.Fprintf(w, "         service RSS max %.1f MiB (peak %.1f); CPU µs per identifier: service %.1f, postgres %.1f, generator %.1f\n",
				rc.Memory.MaxRSSMiB, rc.Memory.PeakRSSMiB, rc.CPU.ServerMicrosPerRequest, rc.CPU.PostgresMicrosPerRequest, rc.CPU.GeneratorMicrosPerRequest)
		}
		for k, n := range rc.ErrorKinds {
			fmt.Fprintf(w, "  recheck: %d × %s, e.g. %s\n", n, k, rc.ErrorExamples[k])
		}
	}
	if len(r.Ratios) > 0 {
		fmt.Fprintln(w)
		for _, k := range []string{"rest_over_plain", "soap_over_rest", "rest_over_db", "soap_over_plain", "wrk_rest_over_plain", "wrk_soap_over_rest"} {
			if v, ok := r.Ratios[k]; ok {
				fmt.Fprintf(w, "%-16s %s\n", strings.ReplaceAll(k, "_", " "), pct(v))
			}
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "\ntargets of issues 5 and 12:")
		for _, t := range r.Targets {
			mark := "  ?  "
			if t.Met != nil {
				mark = map[bool]string{true: "  met", false: "  NOT"}[*t.Met]
			}
			fmt.Fprintf(w, "%s  %-44s %s\n", mark, t.Target, t.Value)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
	if s := r.Soak; s != nil {
		fmt.Fprintf(w, "\nsoak     %d req/s asked for %.0f s (%s): %d requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, %d errors\n",
			s.Rate, s.Seconds, s.Mix, s.Requests, s.RequestsPerSecond, s.LatencyMs.P50, s.LatencyMs.P99, s.LatencyMs.P999, s.Errors)
		fmt.Fprintf(w, "         service RSS: start %.1f MiB, end under load %.1f MiB, end idle %.1f MiB, max %.1f MiB (peak %.1f)\n",
			s.Start.RSSMiB, s.EndUnderLoad.RSSMiB, s.EndIdle.RSSMiB, s.MaxRSSMiB, s.PeakRSSMiB)
		fmt.Fprintf(w, "         goroutines: start %d, end under load %d, end idle %d; consultations lost: %d\n",
			s.Start.Goroutines, s.EndUnderLoad.Goroutines, s.EndIdle.Goroutines, s.EndIdle.ConsultationsLost)
		if s.EndIdle.Goroutines > s.Start.Goroutines+50 {
			fmt.Fprintf(w, "warning: %d goroutines more when idle at the end than at the start: a leak?\n", s.EndIdle.Goroutines-s.Start.Goroutines)
		}
		for k, n := range s.ErrorKinds {
			fmt.Fprintf(w, "  soak: %d × %s, e.g. %s\n", n, k, s.ErrorExamples[k])
		}
	}
	if r.Machine.busy() {
		fmt.Fprintf(w, "\nwarning: the machine was busy before the run (load average %s, at the end %s): the figures are noisy\n",
			r.Machine.LoadAverageStart, r.Machine.LoadAverageEnd)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "\nrun failed: %s\n", r.Error)
	}
}

// writeReport writes r as indented JSON.
func writeReport(path string, r *report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func mib(b int64) float64 { return round(float64(b)/(1<<20), 1) }

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }
