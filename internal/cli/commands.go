package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/demo"
	"github.com/aglae-connector/aglae-connector/internal/extract"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
)

func openPool(ctx context.Context, env Env) (*postgres.Pool, error) {
	url, err := databaseURL(env)
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, url)
}

// withPool runs f on a pool of DATABASE_URL, closed when f returns.
func withPool(ctx context.Context, env Env, f func(*postgres.Pool) error) error {
	pool, err := openPool(ctx, env)
	if err != nil {
		return err
	}
	defer pool.Close()
	return f(pool)
}

// switchDate reads ACADEMIC_YEAR_SWITCH (MM-DD, default 07-01).
func switchDate(env Env) (bourse.SwitchDate, error) {
	s := strings.TrimSpace(env.Getenv("ACADEMIC_YEAR_SWITCH"))
	if s == "" {
		return bourse.DefaultSwitchDate, nil
	}
	return bourse.ParseSwitchDate(s)
}

func runMigrate(ctx context.Context, env Env, args []string) error {
	fs := newFlags("migrate", env)
	down := fs.Bool("down", false, "undo the last migration instead of applying the pending ones")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		v, err := postgres.Migrate(ctx, pool, *down)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "database schema at version %d\n", v)
		return nil
	})
}

func runImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags("import", env)
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return exitError{2, errors.New("want one FILE (or - for stdin)")}
	}
	var in io.Reader = env.Stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	pool, err := openPool(ctx, env)
	if err != nil {
		return err
	}
	defer pool.Close()

	start := time.Now()
	opts := postgres.ImportOptions{
		OnFault: func(f extract.Fault) { fmt.Fprintln(env.Stderr, f) },
	}
	if !*quiet {
		last := start
		opts.OnStep = func(nom string) {
			fmt.Fprintf(env.Stderr, "import: %s done in %s\n", nom, time.Since(last).Round(time.Millisecond))
			last = time.Now()
		}
		opts.ProgressEvery = 100_000
		opts.OnProgress = func(n int) {
			if n > 1 {
				fmt.Fprintf(env.Stderr, "import: %d lines read (%s, %s)\n", n-1, time.Since(start).Round(time.Millisecond), rss())
			}
		}
	}
	res, err := postgres.Import(ctx, pool, in, opts)
	if err != nil {
		return err
	}
	if res.Faults > 0 {
		return fmt.Errorf("%d faults in the extract: nothing was imported", res.Faults)
	}
	el := time.Since(start)
	fmt.Fprintf(env.Stderr, "import: %d dossiers (%d created, %d changed, %d unchanged), %d students created or changed, in %s (%.0f dossiers/s)\n",
		res.Dossiers, res.Created, res.Changed, res.Unchanged, res.Etudiants, el.Round(time.Millisecond), float64(res.Dossiers)/el.Seconds())
	// After the data is swapped, in the same run: the registrations that
	// waited for a decision are applied (issue 13).
	return afterImport(ctx, env, pool)
}

// rss is the process's resident memory, for progress lines.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				return "RSS " + strings.Join(strings.Fields(l)[1:], " ")
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Sprintf("heap %d MiB", m.HeapAlloc>>20)
}

func runDemo(ctx context.Context, env Env, args []string) error {
	fs := newFlags("demo", env)
	n := fs.Int("dossiers", 10_000, "number of dossiers")
	out := fs.String("out", "-", "output file (- for stdout)")
	annees := fs.String("annees", "", "comma-separated academic years (default: the current one and the two before)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same extract")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 0 {
		return exitError{2, errors.New("--dossiers must not be negative")}
	}
	b, err := switchDate(env)
	if err != nil {
		return err
	}
	opts := demo.Options{Dossiers: *n, Seed: *seed}
	if *annees == "" {
		cur := b.CurrentAnnee(time.Now())
		opts.Annees = []int{cur - 2, cur - 1, cur}
	} else {
		for _, s := range strings.Split(*annees, ",") {
			y, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				y = 0 // not a number: out of range
			}
			if err := bourse.ValidateAnnee("--annees", y); err != nil {
				return exitError{2, fmt.Errorf("%w, got %q", err, s)}
			}
			opts.Annees = append(opts.Annees, y)
		}
	}
	w := env.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := demo.Write(bw, opts); err != nil {
		return err
	}
	return bw.Flush()
}

func runCheck(ctx context.Context, env Env, args []string) error {
	fs := newFlags("check", env)
	var in bourse.Saisie
	fs.IntVar(&in.Annee, "annee", 0, "academic year, named by its first year (default: the current one)")
	fs.StringVar(&in.Nom, "nom", "", "the student's last name")
	fs.StringVar(&in.Prenom, "prenom", "", "the student's first name")
	fs.StringVar(&in.DateNaissance, "date-naissance", "", "the student's birth date, YYYY-MM-DD")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
	case 1:
		in.Identifiant = pos[0]
	default:
		return exitError{2, errors.New("want one IDENTIFIANT")}
	}
	b, err := switchDate(env)
	if err != nil {
		return err
	}
	svc := &bourse.Service{SwitchDate: b}
	// Validate before connecting: a bad identifier never reaches the database.
	d, err := in.Validate(svc.CurrentAnnee())
	if err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		svc.Store = postgres.NewStore(pool)
		r, err := svc.Decide(ctx, d)
		if err != nil {
			return err
		}
		return writeJSON(env.Stdout, rest.ToReponse(r))
	})
}
