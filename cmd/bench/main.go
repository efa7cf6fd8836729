// Command bench is the connector's load harness (make bench). In one run,
// on a throwaway PostgreSQL cluster (durable: fsync and synchronous_commit
// on, as in production), it:
//
//   - builds the service, generates demo dossiers (--dossiers over three
//     academic years), migrates, and imports them while measuring the import
//     (wall time, dossiers/s, peak RSS of the import process);
//   - creates an API client and starts `aglae-connector serve`;
//   - measures the phases below one after the other, each for --duration
//     after a short warm-up, with --connections concurrent connections in a
//     closed loop (each connection sends its next request as soon as it has
//     its answer).
//
// The phases:
//
//   - plain: the plainest net/http handler, a fixed small JSON answer,
//     served by a child process of this binary (the HTTP ceiling);
//   - db: the engine's query, postgres.Store.Dossiers, from a pgx pool
//     opened as the service opens its own, without HTTP (the database
//     ceiling);
//   - rest: GET /v1/boursiers/{id}?annee=Y with the Bearer secret;
//   - soap: POST /ws/connecteur (consulterBoursier) with HTTP Basic;
//   - wrk: the plainest handler, REST and SOAP again, measured by wrk
//     (when installed) one after the other: wrk costs the machine a few µs
//     a request where vegeta costs 50 to 100, so its ratios say more of
//     the service;
//   - open: REST, then SOAP, open loop at --open-rate (1,000 lookups/s, the
//     soak's rate) for their latency at a given load;
//   - recheck: --recheck identifiers through POST /v1/consultations/lot,
//     1,000 per batch, by a few parallel workers, timed whole
//     ("unavailable" while the service lacks the endpoint);
//   - inscriptions: registration events POSTed to /v1/inscriptions by 64
//     connections for --duration, each acknowledged (201) once committed
//     (durability on), then the time until the worker processed them all.
//
// Identifiers are drawn at random (seeded) from a sample of the existing
// (identifier, year) pairs, plus 10 % valid INE-BEA absent from the
// database. Every response is checked: a non-2xx status or a body that is
// not the answer to the question asked counts as an error.
//
// It prints, per phase, req/s, p50/p99/p99.9 latency, errors, the CPU each
// process spent per request and, for the service, its RSS; then the ratios
// and targets of issue 5; and writes everything as JSON (--out) so that two
// runs can be compared (bench compare OLD.json NEW.json).
//
// With --soak D it runs a soak test instead of the phases: REST and SOAP
// lookups, half each, open-loop at --rate per second for D (metrics on, on
// a free port), and reports the errors (must be 0), the consultation
// records lost (must be 0), and the service's RSS and goroutines at start,
// every D/20 and at the end, under load and idle. The default rate, 1,000
// lookups/s, is twice the peak we assume for a national deployment: the
// registration peak brings thousands of lookups an hour to each of the 26
// CROUS (say 5,000/h each, 36/s in all), and registrations open at the same
// hours everywhere, so bursts an order of magnitude above that hourly mean,
// about 500/s, are the peak to sustain.
//
// Everything it starts (processes, cluster, temporary folder) is removed at
// the end, also on failure or Ctrl-C; --keep keeps the cluster and the
// folder for inspection.
//
// Usage:
//
//	go run ./cmd/bench [flags]
//	go run ./cmd/bench compare OLD.json NEW.json
//	go run ./cmd/bench saison [flags]    (a national season, make bench-saison: see saison.go)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// config is what the flags say.
type config struct {
	dossiers       int
	annees         []int
	duration       time.Duration
	warmup         time.Duration
	connections    int
	recheck        int
	recheckWorkers int
	sample         int
	seed           uint64
	out            string
	keep           bool
	bin            string
	phases         []string
	soak           time.Duration
	rate           int
	openRate       int
	flags          map[string]string // every flag and its value, for the report
}

// allPhases are the measured phases, in the order they run.
var allPhases = []string{phasePlain, phaseDB, phaseREST, phaseSOAP, phaseWrk, phaseOpen, phaseRecheck, phaseInscriptions}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case plainCommand:
			os.Exit(servePlain(os.Args[2:]))
		case "compare":
			os.Exit(compareMain(os.Args[2:], os.Stdout, os.Stderr))
		case saisonCommand:
			os.Exit(saisonMain(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// The load generator allocates a response per request: collect less
	// often, so that it takes less of the CPU it shares with the service.
	debug.SetGCPercent(400)

	ctx, stop := interruptible()
	defer stop()
	rep := newReport(cfg)
	runErr := run(ctx, cfg, rep)
	os.Exit(finish(cfg, rep, runErr, os.Stdout, os.Stderr))
}

// finish prints the summary, writes the JSON report and returns the exit
// status: 1 when the run failed or a response was wrong.
func finish(cfg config, rep *report, runErr error, stdout, stderr io.Writer) int {
	if errors.Is(runErr, context.Canceled) {
		runErr = errors.New("interrupted")
	}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	rep.Finished = time.Now()
	rep.Machine.LoadAverageEnd = loadAverage()
	if rep.Mode == "bench" {
		rep.evaluate() // also after a failure: the figures of the phases done
	}
	printSummary(stdout, rep)
	code := 0
	if err := writeReport(cfg.out, rep); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		code = 1
	} else {
		fmt.Fprintf(stdout, "\nresults written to %s\n", cfg.out)
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "bench:", runErr)
		return 1
	}
	if n := rep.totalErrors(); n > 0 {
		fmt.Fprintf(stderr, "bench: %d wrong or failed responses (see errors above)\n", n)
		return 1
	}
	return code
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.dossiers, "dossiers", 1_000_000, "demo dossiers to generate and import")
	annees := fs.String("annees", "", "comma-separated academic years of the dossiers (default: the current one and the two before)")
	fs.DurationVar(&cfg.duration, "duration", 15*time.Second, "measured duration of each phase")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured warm-up before each phase")
	fs.IntVar(&cfg.connections, "connections", 64, "concurrent connections (closed loop)")
	fs.IntVar(&cfg.recheck, "recheck", 750_000, "identifiers of the batch re-check")
	fs.IntVar(&cfg.recheckWorkers, "recheck-workers", 4, "parallel batches of the re-check")
	fs.IntVar(&cfg.sample, "sample", 100_000, "existing (identifier, year) pairs read to draw identifiers from")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed of the demo data and of the draws")
	fs.StringVar(&cfg.out, "out", "bench-results.json", "JSON report (soak-results.json with --soak)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the cluster (running) and the temporary folder for inspection")
	fs.StringVar(&cfg.bin, "bin", "", "service binary to measure (default: build ./cmd/aglae-connector)")
	phases := fs.String("phases", strings.Join(allPhases, ","), "phases to measure, comma-separated")
	fs.DurationVar(&cfg.soak, "soak", 0, "run a soak test of this duration instead of the phases")
	fs.IntVar(&cfg.openRate, "open-rate", 1000, "requests per second of the open-loop phase (REST, then SOAP)")
	fs.IntVar(&cfg.rate, "rate", 1000, "requests per second of the soak test (open loop): twice a national peak of 500/s")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bench [flags]   (or: bench compare OLD.json NEW.json)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case cfg.dossiers < 1:
		return cfg, errors.New("--dossiers must be positive")
	case cfg.duration <= 0 || cfg.warmup < 0:
		return cfg, errors.New("--duration must be positive and --warmup not negative")
	case cfg.connections < 1:
		return cfg, errors.New("--connections must be positive")
	case cfg.recheck < 0 || cfg.recheckWorkers < 1:
		return cfg, errors.New("--recheck must not be negative and --recheck-workers must be positive")
	case cfg.sample < 1:
		return cfg, errors.New("--sample must be positive")
	case cfg.soak < 0 || cfg.rate < 1 || cfg.openRate < 1:
		return cfg, errors.New("--soak must not be negative, --rate and --open-rate must be positive")
	}
	var err error
	if cfg.annees, err = parseAnnees(*annees, time.Now()); err != nil {
		return cfg, err
	}
	if cfg.phases, err = parsePhases(*phases); err != nil {
		return cfg, err
	}
	outSet := false
	fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
	if cfg.soak > 0 && !outSet {
		cfg.out = "soak-results.json"
		fs.Set("out", cfg.out)
	}
	cfg.flags = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { cfg.flags[f.Name] = f.Value.String() })
	return cfg, nil
}

// parseAnnees reads --annees; "" means the current academic year at now and
// the two before.
func parseAnnees(s string, now time.Time) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		cur := bourse.DefaultSwitchDate.CurrentAnnee(now)
		return []int{cur - 2, cur - 1, cur}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		y, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			y = 0 // not a number: out of range
		}
		if err := bourse.ValidateAnnee("--annees", y); err != nil {
			return nil, fmt.Errorf("%w, got %q", err, f)
		}
		if !slices.Contains(out, y) {
			out = append(out, y)
		}
	}
	slices.Sort(out)
	return out, nil
}

// parsePhases reads --phases, keeping the run order.
func parsePhases(s string) ([]string, error) {
	want := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(allPhases, f) {
			return nil, fmt.Errorf("--phases: unknown phase %q (want some of %s)", f, strings.Join(allPhases, ","))
		}
		want[f] = true
	}
	var out []string
	for _, p := range allPhases {
		if want[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// interruptible returns a context that the first SIGINT or SIGTERM cancels;
// later signals do not kill the harness while it cleans up.
func interruptible() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		first := true
		for range ch {
			if first {
				fmt.Fprintln(os.Stderr, "\nbench: interrupted: stopping and cleaning up")
				cancel()
				first = false
				continue
			}
			fmt.Fprintln(os.Stderr, "bench: still cleaning up (processes, cluster), please wait")
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}
