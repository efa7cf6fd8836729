package main

// bench saison (make bench-saison): a national season on a throwaway
// PostgreSQL, played in the season's own time (an injected clock):
//
//   - --dossiers demo dossiers of one academic year, imported (the real
//     import), then dated the day before the season starts;
//   - --etablissements establishments sharing the students;
//   - --consultations lookups spread evenly over --jours days (July 1st
//     on), each establishment asking every day about random students of
//     its own, through the real write path: the traced batch lookup, the
//     journal and its batched COPY into the partitioned log, the summary's
//     triggers;
//   - every night, an import of --changements changed dossiers (pending
//     ones decided), then the nightly re-check of every establishment
//     (suivi.NightlyAll), timed;
//   - at the end: the log's size on disk, the follow-up and every control
//     list of every establishment, timed (p50, p95, max), and the retention
//     purge of the months before --purge-avant (default: the season's third
//     month), timed.
//
// It prints the figures and writes them as JSON (--out).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/demo"
	"github.com/aglae-connector/aglae-connector/internal/extract"
	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

const saisonCommand = "saison"

// saisonConfig is what the flags of bench saison say.
type saisonConfig struct {
	dossiers       int
	consultations  int
	etablissements int
	jours          int
	changements    int
	annee          int
	purgeAvant     string
	seed           uint64
	out            string
	keep           bool
}

func parseSaisonFlags(args []string, stderr io.Writer) (saisonConfig, error) {
	fs := flag.NewFlagSet("bench saison", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c saisonConfig
	fs.IntVar(&c.dossiers, "dossiers", 1_000_000, "demo dossiers of the season's year")
	fs.IntVar(&c.consultations, "consultations", 5_000_000, "lookups over the season")
	fs.IntVar(&c.etablissements, "etablissements", 80, "establishments asking")
	fs.IntVar(&c.jours, "jours", 120, "days of the season, from July 1st; a nightly import and re-check after each")
	fs.IntVar(&c.changements, "changements", 0, "dossiers each nightly import changes (pending ones decided, conditional awards made definitive); 0: the pending dossiers shared out over the nights, at most 2000 a night")
	fs.IntVar(&c.annee, "annee", 2025, "the academic year of the season")
	fs.StringVar(&c.purgeAvant, "purge-avant", "", "the retention purge's --avant, YYYY-MM-DD (default: the first day of the season's third month)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the dossiers and of the draws")
	fs.StringVar(&c.out, "out", "bench-saison-results.json", "the JSON report")
	fs.BoolVar(&c.keep, "keep", false, "keep the cluster and the temporary folder")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.dossiers < 1000 || c.dossiers > 5_000_000:
		return c, errors.New("--dossiers: want 1000 to 5000000")
	case c.consultations < 0 || c.consultations > 50_000_000:
		return c, errors.New("--consultations: want 0 to 50000000")
	case c.etablissements < 1 || c.etablissements > 1000:
		return c, errors.New("--etablissements: want 1 to 1000")
	case c.jours < 1 || c.jours > 300:
		return c, errors.New("--jours: want 1 to 300")
	case c.changements < 0 || c.changements > c.dossiers:
		return c, errors.New("--changements: want 0 to --dossiers")
	}
	if err := bourse.ValidateAnnee("--annee", c.annee); err != nil {
		return c, err
	}
	if c.purgeAvant != "" {
		if _, err := time.ParseInLocation(time.DateOnly, c.purgeAvant, bourse.Paris); err != nil {
			return c, fmt.Errorf("--purge-avant: %w", err)
		}
	}
	return c, nil
}

// saisonMain runs bench saison and returns the exit status.
func saisonMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseSaisonFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench saison:", err)
		return 2
	}
	ctx, stop := interruptible()
	defer stop()
	cl := &cleanups{}
	defer cl.run()
	rep, err := saisonOnCluster(ctx, cfg, cl)
	if rep != nil {
		rep.print(stdout)
		if b, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
			if werr := os.WriteFile(cfg.out, append(b, '\n'), 0o644); werr != nil {
				fmt.Fprintln(stderr, "bench saison:", werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench saison:", err)
		return 1
	}
	return 0
}

// saisonOnCluster starts a throwaway cluster (durable, as bench's),
// migrates it and plays the season.
func saisonOnCluster(ctx context.Context, cfg saisonConfig, cl *cleanups) (*saisonReport, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "aglae-connector-bench-saison.")
	if err != nil {
		return nil, err
	}
	cl.add("temporary folder", func() error {
		if cfg.keep {
			return nil
		}
		return os.RemoveAll(tmp)
	})
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	load := loadAverage()
	c, err := startCluster(ctx, root, filepath.Join(tmp, "pg"), cfg.keep, cl)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	pool, err := postgres.Open(ctx, c.url)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	cl.add("the harness's pool", func() error { pool.Close(); return nil })
	if _, err := postgres.Migrate(ctx, pool, false); err != nil {
		return nil, err
	}
	rep := &saisonReport{Started: time.Now(), Git: gitRevision(ctx, root), LoadAverageStart: load,
		Fsync: setting(ctx, pool, "fsync"), SynchronousCommit: setting(ctx, pool, "synchronous_commit")}
	err = playSaison(ctx, pool, cfg, filepath.Join(tmp, "spool"), rep, os.Stderr)
	rep.Finished = time.Now()
	rep.LoadAverageEnd = loadAverage()
	return rep, err
}

// saisonReport is what bench saison measured.
type saisonReport struct {
	Started           time.Time `json:"started"`
	Finished          time.Time `json:"finished"`
	Git               string    `json:"git,omitempty"`
	LoadAverageStart  string    `json:"loadAverageStart"`
	LoadAverageEnd    string    `json:"loadAverageEnd"`
	Fsync             string    `json:"fsync,omitempty"`
	SynchronousCommit string    `json:"synchronousCommit,omitempty"`
	Flags             string    `json:"flags"`

	Dossiers       int     `json:"dossiers"`
	ImportSeconds  float64 `json:"importSeconds"`
	Etablissements int     `json:"etablissements"`
	Etudiants      int     `json:"etudiants"`
	Consultations  int     `json:"consultations"`
	Jours          int     `json:"jours"`
	// The season's writing: lookups answered and written, per second of
	// the wall clock (the nights excluded).
	ConsultationSeconds float64 `json:"consultationSeconds"`
	ConsultationsPerSec float64 `json:"consultationsPerSecond"`

	NightlyImports       int     `json:"nightlyImports"`
	ChangementsParNuit   int     `json:"changementsParNuit"`
	NightlyImportP50     float64 `json:"nightlyImportP50Seconds"`
	NightlyImportMax     float64 `json:"nightlyImportMaxSeconds"`
	RecheckP50           float64 `json:"recheckP50Seconds"`
	RecheckP95           float64 `json:"recheckP95Seconds"`
	RecheckMax           float64 `json:"recheckMaxSeconds"`
	RecheckReasked       int     `json:"recheckReasked"`
	RecheckChanges       int     `json:"recheckChanges"`
	RecheckLastReasked   int     `json:"recheckLastNightReasked"`
	RecheckQuietReasked  int     `json:"recheckQuietNightReasked"`
	RecheckQuietSeconds  float64 `json:"recheckQuietNightSeconds"`
	Log                  postgres.LogSize
	SuiviMs              latencies `json:"suiviMs"`
	ListesMs             latencies `json:"listesMs"`
	PurgeAvant           string    `json:"purgeAvant"`
	PurgeMonths          []string  `json:"purgeMonths"`
	PurgeSeconds         float64   `json:"purgeSeconds"`
	LogAfterPurge        postgres.LogSize
	SuiviAfterPurgeMs    latencies `json:"suiviAfterPurgeMs"`
	EtudiantsAfterPurge  int       `json:"etudiantsAfterPurge"`
	EtudiantsBeforePurge int       `json:"etudiantsBeforePurge"`
}

// latencies summarises timed calls, in milliseconds.
type latencies struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

func summarise(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.999999) - 1
		return round(float64(s[max(0, min(i, len(s)-1))].Microseconds())/1000, 1)
	}
	return latencies{N: len(s), P50: at(0.5), P95: at(0.95), Max: at(1)}
}

func secondsOf(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return round(s[max(0, min(i, len(s)-1))].Seconds(), 3)
}

// saisonClock is the season's time: set by the harness, one microsecond
// later at every reading so that every record has a time of its own.
// The journal's writer reads it too.
type saisonClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *saisonClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Microsecond)
	return c.now
}

func (c *saisonClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// establishmentUAI is the n-th establishment's UAI, with its key letter.
func establishmentUAI(n int) string {
	d := fmt.Sprintf("%07d", 750_0000+n*37)
	return d + string(ident.UAIKey(d))
}

// playSaison plays the season on pool (migrated) and fills rep.
func playSaison(ctx context.Context, pool *postgres.Pool, cfg saisonConfig, spoolDir string, rep *saisonReport, logw io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(logw, "bench saison: "+format+"\n", args...)
	}
	rep.Flags = fmt.Sprintf("--dossiers %d --consultations %d --etablissements %d --jours %d --changements %d --annee %d --seed %d",
		cfg.dossiers, cfg.consultations, cfg.etablissements, cfg.jours, cfg.changements, cfg.annee, cfg.seed)
	rep.Dossiers, rep.Etablissements, rep.Jours = cfg.dossiers, cfg.etablissements, cfg.jours
	start := time.Date(cfg.annee, 7, 1, 0, 0, 0, 0, bourse.Paris)
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5341_4953_4f4e)) // "SAISON"

	// The dossiers: imported whole, the pending ones kept for the nights.
	perNight := cfg.changements
	if perNight == 0 {
		perNight = 2000
	}
	need := perNight * cfg.jours
	var pending []extract.Line
	pr, pw := io.Pipe()
	go func() {
		enc := json.NewEncoder(pw)
		enc.SetEscapeHTML(false)
		err := demo.Generate(demo.Options{Dossiers: cfg.dossiers, Annees: []int{cfg.annee}, Seed: cfg.seed}, func(l extract.Line) error {
			if len(pending) < need && l.AnneeUniversitaire == cfg.annee && (l.Etat == "NON_TRAITE" || l.Etat == "PIECES_MANQUANTES" ||
				l.Etat == "VALIDE" && l.Decision != nil && l.Decision.Nature == "ATTRIBUTION_CONDITIONNELLE") {
				pending = append(pending, l)
			}
			return enc.Encode(l)
		})
		pw.CloseWithError(err)
	}()
	t0 := time.Now()
	res, err := postgres.Import(ctx, pool, pr, postgres.ImportOptions{})
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if res.Faults > 0 {
		return fmt.Errorf("import: %d faults in the demo extract", res.Faults)
	}
	rep.ImportSeconds = round(time.Since(t0).Seconds(), 1)
	if _, err := postgres.StampImported(ctx, pool, nil, start.AddDate(0, 0, -1)); err != nil {
		return err
	}
	if cfg.changements == 0 {
		perNight = max(1, len(pending)/cfg.jours)
	}
	rng.Shuffle(len(pending), func(a, b int) { pending[a], pending[b] = pending[b], pending[a] })
	rep.ChangementsParNuit = perNight
	logf("%d dossiers imported in %.1f s; %d pending ones for the nights, %d a night", res.Dossiers, rep.ImportSeconds, len(pending), perNight)

	// The students, shared out among the establishments.
	keys, err := postgres.SampleKeys(ctx, pool, cfg.dossiers, cfg.seed)
	if err != nil {
		return err
	}
	students := make([][]string, cfg.etablissements)
	uais := make([]string, cfg.etablissements)
	for i := range uais {
		uais[i] = establishmentUAI(i)
	}
	n := 0
	for _, k := range keys {
		if k.Annee == cfg.annee {
			students[n%cfg.etablissements] = append(students[n%cfg.etablissements], k.Identifiant)
			n++
		}
	}
	rep.Etudiants = n
	if n == 0 {
		return errors.New("no dossier of the season's year")
	}

	clk := &saisonClock{now: start}
	consultations := postgres.NewConsultations(pool)
	j, err := journal.Open(ctx, journal.Options{Store: consultations, Partitions: consultations, SpoolDir: spoolDir, Now: clk.Now})
	if err != nil {
		return err
	}
	defer j.Close(context.WithoutCancel(ctx))
	engine := &bourse.Service{Store: postgres.NewStore(pool)}
	traced := journal.Tracer(engine, j)
	store := postgres.NewSuivi(pool)
	// drained waits until the journal wrote everything it was given.
	drained := func() error {
		for {
			st := j.Stats()
			if st.Queued == 0 && st.Spooled == 0 {
				return nil
			}
			if st.Rejected > 0 || st.Lost > 0 {
				return fmt.Errorf("the journal rejected %d and lost %d records", st.Rejected, st.Lost)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	callers := make([]context.Context, cfg.etablissements)
	for i, u := range uais {
		callers[i] = bourse.WithAppelant(ctx, bourse.Appelant{ClientID: fmt.Sprintf("etab%03d", i), Nom: u, UAI: bourse.UAI(u), Canal: bourse.CanalREST})
	}

	var (
		consulting, imports, rechecks []time.Duration
		written                       int
		ids                           []string
	)
	for day := range cfg.jours {
		// The day: each establishment asks about its students, in
		// batches, from 8:00 on.
		t := time.Now()
		today := cfg.consultations/cfg.jours + btoi(day < cfg.consultations%cfg.jours)
		for e := range cfg.etablissements {
			k := today/cfg.etablissements + btoi(e < today%cfg.etablissements)
			mine := students[e]
			for k > 0 && len(mine) > 0 {
				m := min(k, bourse.MaxBatch)
				ids = ids[:0]
				for range m {
					ids = append(ids, mine[rng.IntN(len(mine))])
				}
				clk.set(start.AddDate(0, 0, day).Add(8*time.Hour + time.Duration(e)*6*time.Minute))
				if _, err := traced.ConsultBatch(callers[e], bourse.Batch{Annee: cfg.annee, CodeEtablissement: uais[e], Identifiants: ids}); err != nil {
					return fmt.Errorf("day %d: %w", day, err)
				}
				written += m
				k -= m
			}
			if j.Stats().Queued > journal.DefaultMemoryLimit/2 {
				if err := drained(); err != nil {
					return err
				}
			}
		}
		if err := drained(); err != nil {
			return err
		}
		consulting = append(consulting, time.Since(t))

		// The night: an import of the dossiers that changed, then the
		// re-check of every establishment.
		night := start.AddDate(0, 0, day+1).Add(2 * time.Hour)
		clk.set(night)
		if len(pending) > 0 {
			batch := pending[:min(perNight, len(pending))]
			pending = pending[len(batch):]
			d, err := nightlyImport(ctx, pool, batch, night)
			if err != nil {
				return fmt.Errorf("night %d: %w", day, err)
			}
			imports = append(imports, d)
		}
		clk.set(night.Add(30 * time.Minute))
		t = time.Now()
		r, _, err := suivi.NightlyAll(ctx, store, engine, j, cfg.annee)
		if err != nil {
			return fmt.Errorf("night %d: re-check: %w", day, err)
		}
		if err := drained(); err != nil {
			return err
		}
		rechecks = append(rechecks, time.Since(t))
		rep.RecheckReasked += r.Reasked
		rep.RecheckChanges += r.Changes
		rep.RecheckLastReasked = r.Reasked
		if (day+1)%10 == 0 || day == cfg.jours-1 {
			logf("day %d/%d: %d consultations written; last night: %d re-asked, %d changed, in %s",
				day+1, cfg.jours, written, r.Reasked, r.Changes, rechecks[len(rechecks)-1].Round(time.Millisecond))
		}
	}
	rep.Consultations = written
	var total time.Duration
	for _, d := range consulting {
		total += d
	}
	rep.ConsultationSeconds = round(total.Seconds(), 1)
	rep.ConsultationsPerSec = round(float64(written)/total.Seconds(), 0)
	rep.NightlyImports = len(imports)
	rep.NightlyImportP50, rep.NightlyImportMax = secondsOf(imports, 0.5), secondsOf(imports, 1)
	rep.RecheckP50, rep.RecheckP95, rep.RecheckMax = secondsOf(rechecks, 0.5), secondsOf(rechecks, 0.95), secondsOf(rechecks, 1)

	// A night with no new extract.
	end := start.AddDate(0, 0, cfg.jours)
	clk.set(end.Add(3 * time.Hour))
	t := time.Now()
	r, _, err := suivi.NightlyAll(ctx, store, engine, j, cfg.annee)
	if err != nil {
		return err
	}
	rep.RecheckQuietSeconds = round(time.Since(t).Seconds(), 3)
	rep.RecheckQuietReasked = r.Reasked
	if err := drained(); err != nil {
		return err
	}

	// The log, and what the establishments read at the end of the season.
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	if rep.Log, err = postgres.ConsultationLogSize(ctx, pool); err != nil {
		return err
	}
	logf("log: %d rows in %d partitions, %.1f MiB (indexes %.1f MiB); summary %.1f MiB", rep.Log.Rows, rep.Log.Partitions,
		mib(rep.Log.LogBytes), mib(rep.Log.IndexBytes), mib(rep.Log.SuiviBytes))
	suiviMs, listesMs, nEtudiants, err := readEverything(ctx, store, uais, cfg.annee, end.AddDate(0, 0, -7))
	if err != nil {
		return err
	}
	rep.SuiviMs, rep.ListesMs, rep.EtudiantsBeforePurge = summarise(suiviMs), summarise(listesMs), nEtudiants

	// The retention.
	cutoff := start.AddDate(0, 2, 0)
	if cfg.purgeAvant != "" {
		cutoff, _ = time.ParseInLocation(time.DateOnly, cfg.purgeAvant, bourse.Paris)
	}
	rep.PurgeAvant = cutoff.Format(time.DateOnly)
	t = time.Now()
	pres, err := journal.Purge(ctx, consultations, cutoff)
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	rep.PurgeSeconds = round(time.Since(t).Seconds(), 3)
	rep.PurgeMonths = pres.Months
	if rep.LogAfterPurge, err = postgres.ConsultationLogSize(ctx, pool); err != nil {
		return err
	}
	suiviMs, _, rep.EtudiantsAfterPurge, err = readEverything(ctx, store, uais, cfg.annee, end.AddDate(0, 0, -7))
	if err != nil {
		return err
	}
	rep.SuiviAfterPurgeMs = summarise(suiviMs)
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nightlyImport imports lines through the real import, each changed (a
// conditional award made definitive, a pending dossier rejected), and
// dates them at.
func nightlyImport(ctx context.Context, pool *postgres.Pool, lines []extract.Line, at time.Time) (time.Duration, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	numeros := make([]string, len(lines))
	for i, l := range lines {
		if l.Decision != nil && l.Decision.Nature == "ATTRIBUTION_CONDITIONNELLE" {
			d := *l.Decision
			d.Nature, d.SousReserveProgression, d.ProgressionVerified = "ATTRIBUTION_DEFINITIVE", false, false
			l.Decision = &d
		} else {
			bareme := l.AnneeUniversitaire - 1
			l.Etat, l.PiecesManquantes = "VALIDE", []string{}
			l.Decision = &extract.Decision{Nature: "REJET", Date: at.In(bourse.Paris).Format(time.DateOnly), Bareme: &bareme}
		}
		if err := enc.Encode(l); err != nil {
			return 0, err
		}
		numeros[i] = l.NumeroDossier
	}
	t := time.Now()
	res, err := postgres.Import(ctx, pool, &buf, postgres.ImportOptions{})
	d := time.Since(t)
	if err != nil {
		return d, err
	}
	if res.Faults > 0 {
		return d, fmt.Errorf("import: %d faults in the nightly extract", res.Faults)
	}
	_, err = postgres.StampImported(ctx, pool, numeros, at)
	return d, err
}

// readEverything reads, for every establishment, the follow-up since
// since and every control list of annee, timing each call, and counts the
// students the statuts list gives.
func readEverything(ctx context.Context, store suivi.Store, uais []string, annee int, since time.Time) (suiviMs, listesMs []time.Duration, etudiants int, err error) {
	for _, u := range uais {
		t := time.Now()
		if _, err := suivi.Suivi(ctx, store, u, since); err != nil {
			return nil, nil, 0, err
		}
		suiviMs = append(suiviMs, time.Since(t))
		for _, l := range suivi.Listes {
			t := time.Now()
			c, err := suivi.Liste(ctx, store, u, annee, l)
			if err != nil {
				return nil, nil, 0, err
			}
			listesMs = append(listesMs, time.Since(t))
			if l == suivi.ListeStatuts {
				etudiants += c.Total()
			}
		}
	}
	return suiviMs, listesMs, etudiants, nil
}

// print writes the figures for a person.
func (r *saisonReport) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("season: %s (load average %s at start, %s at end; fsync=%s synchronous_commit=%s)", r.Flags, r.LoadAverageStart, r.LoadAverageEnd, r.Fsync, r.SynchronousCommit)
	p("  dossiers imported:       %d in %.1f s", r.Dossiers, r.ImportSeconds)
	p("  consultations written:   %d over %d days by %d establishments (%d students), %.0f/s through the journal (%.1f s)",
		r.Consultations, r.Jours, r.Etablissements, r.Etudiants, r.ConsultationsPerSec, r.ConsultationSeconds)
	p("  nightly imports:         %d of %d changed dossiers, p50 %.2f s, max %.2f s", r.NightlyImports, r.ChangementsParNuit, r.NightlyImportP50, r.NightlyImportMax)
	p("  nightly re-check (all %d establishments): p50 %.3f s, p95 %.3f s, max %.3f s (goal < 60 s); %d re-asked, %d changed over the season",
		r.Etablissements, r.RecheckP50, r.RecheckP95, r.RecheckMax, r.RecheckReasked, r.RecheckChanges)
	p("  a night without extract: %d re-asked, in %.3f s", r.RecheckQuietReasked, r.RecheckQuietSeconds)
	p("  log on disk:             %d rows, %d partitions, %.1f MiB (indexes %.1f MiB); summary %.1f MiB; per-day counts %.1f MiB",
		r.Log.Rows, r.Log.Partitions, mib(r.Log.LogBytes), mib(r.Log.IndexBytes), mib(r.Log.SuiviBytes), mib(r.Log.DayBytes))
	p("  follow-up per establishment:     p50 %.1f ms, p95 %.1f ms, max %.1f ms (goal p95 < 300 ms)", r.SuiviMs.P50, r.SuiviMs.P95, r.SuiviMs.Max)
	p("  control lists per establishment: p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d lists (goal p95 < 300 ms)", r.ListesMs.P50, r.ListesMs.P95, r.ListesMs.Max, r.ListesMs.N)
	p("  purge --avant %s: months %v dropped in %.3f s; log left %d rows, %.1f MiB; students %d -> %d; follow-up p95 %.1f ms after",
		r.PurgeAvant, r.PurgeMonths, r.PurgeSeconds, r.LogAfterPurge.Rows, mib(r.LogAfterPurge.LogBytes), r.EtudiantsBeforePurge, r.EtudiantsAfterPurge, r.SuiviAfterPurgeMs.P95)
}
