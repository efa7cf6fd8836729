package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

// Usage of the follow-up commands, for the commands list:
//
//	suivi --uai UAI --depuis DATE [--format csv|json]
//	                               the students whose answer changed since DATE
//	controles --uai UAI [--annee YYYY] LISTE [--format csv|json]
//	                               a control list: statuts, numeros-differents, en-attente, inconnus, identites-differentes
//	recheck [--uai UAI] [--annee YYYY] [--tous]
//	                               re-ask the engine about the students still waiting whose dossier an import
//	                               changed since, and record the answers that changed (--tous: every student
//	                               still waiting, every answer)
//	rapport --uai UAI [--annee YYYY] [--depuis DATE] [--mail ADDRESS]
//	                               the lists and the follow-up: printed, or mailed with the CSV files attached
//
// DATE is YYYY-MM-DD (midnight, Paris time) or RFC 3339; YYYY is the
// academic year (2025 for 2025–2026), by default the current one.

// flagUAI reads a required --uai.
func flagUAI(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", exitError{2, errors.New("--uai is required: the establishment's UAI code, e.g. 0781944P")}
	}
	u, err := bourse.ParseUAI("--uai", v)
	if err != nil {
		return "", exitError{2, err}
	}
	return string(u), nil
}

// flagAnnee reads --annee, 0 meaning the current academic year.
func flagAnnee(env Env, annee int) (int, error) {
	if annee == 0 {
		b, err := switchDate(env)
		if err != nil {
			return 0, err
		}
		return b.CurrentAnnee(time.Now()), nil
	}
	if err := bourse.ValidateAnnee("--annee", annee); err != nil {
		return 0, exitError{2, err}
	}
	return annee, nil
}

// flagUAIAnnee reads a required --uai and --annee, 0 meaning the current
// academic year.
func flagUAIAnnee(env Env, uai string, annee int) (string, int, error) {
	u, err := flagUAI(uai)
	if err != nil {
		return "", 0, err
	}
	a, err := flagAnnee(env, annee)
	if err != nil {
		return "", 0, err
	}
	return u, a, nil
}

func flagFormat(format string) error {
	if format != suivi.FormatCSV && format != suivi.FormatJSON {
		return exitError{2, fmt.Errorf("--format: want csv or json, got %q", format)}
	}
	return nil
}

// runSuivi writes the follow-up of an establishment to stdout.
func runSuivi(ctx context.Context, env Env, args []string) error {
	fs := newFlags("suivi", env)
	uai := fs.String("uai", "", "the establishment (UAI) whose follow-up to write (required)")
	since := fs.String("depuis", "", "changes seen from this date on: YYYY-MM-DD (Paris time) or RFC 3339 (required)")
	format := fs.String("format", "csv", "csv (with a header line) or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	u, err := flagUAI(*uai)
	if err != nil {
		return err
	}
	t, _, err := flagTime("--depuis", *since, true)
	if err != nil {
		return err
	}
	if err := flagFormat(*format); err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		cs, err := suivi.Suivi(ctx, postgres.NewSuivi(pool), u, t)
		if err != nil {
			return err
		}
		if err := suivi.WriteSuivi(env.Stdout, *format, u, t, cs); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "%d changes since %s\n", len(cs), t.Format(time.RFC3339))
		return nil
	})
}

// runControles writes a control list of an establishment to stdout.
func runControles(ctx context.Context, env Env, args []string) error {
	fs := newFlags("controles", env)
	uai := fs.String("uai", "", "the establishment (UAI) whose list to write (required)")
	annee := fs.Int("annee", 0, "academic year, named by its first year (default: the current one)")
	format := fs.String("format", "csv", "csv (with a header line) or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return exitError{2, fmt.Errorf("want one LISTE: %s", strings.Join(suivi.Listes, ", "))}
	}
	if !slices.Contains(suivi.Listes, pos[0]) {
		return exitError{2, fmt.Errorf("unknown list %q: want one of %s", pos[0], strings.Join(suivi.Listes, ", "))}
	}
	u, a, err := flagUAIAnnee(env, *uai, *annee)
	if err != nil {
		return err
	}
	if err := flagFormat(*format); err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		c, err := suivi.Liste(ctx, postgres.NewSuivi(pool), u, a, pos[0])
		if err != nil {
			return err
		}
		if err := suivi.WriteListe(env.Stdout, *format, c); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "%s %s %d: %d students\n", pos[0], u, a, c.Total())
		return nil
	})
}

// recheckSpoolDir is where the re-check's consultation records wait while
// the database cannot take them: RECHECK_SPOOL_DIR, else a folder of its
// own per establishment (never the server's: one journal per spool
// folder), in $STATE_DIRECTORY under systemd, else in the temporary
// folder. A spool left by a run is written by the next run for the same
// establishment.
func recheckSpoolDir(env Env, uai string) string {
	if d := envOr(env, "RECHECK_SPOOL_DIR", ""); d != "" {
		return d
	}
	if s := envOr(env, "STATE_DIRECTORY", ""); s != "" {
		first, _, _ := strings.Cut(s, ":")
		return filepath.Join(first, "recheck-"+uai)
	}
	return filepath.Join(os.TempDir(), "aglae-connector-recheck-"+uai)
}

// runRecheck is the nightly re-check: it re-asks the engine about the
// students of an establishment (or of every one) whose last answer was not
// final and whose dossier an import changed since, and records the
// answers that changed, so the follow-up shows them. --tous re-asks every
// student not final and records every answer (the re-check before issue
// 12).
func runRecheck(ctx context.Context, env Env, args []string) error {
	fs := newFlags("recheck", env)
	uai := fs.String("uai", "", "the establishment (UAI) whose students to re-check (default: every establishment of the year)")
	annee := fs.Int("annee", 0, "academic year, named by its first year (default: the current one)")
	all := fs.Bool("tous", false, "re-ask every student whose answer is not final, even without a new extract, and record every answer (needs --uai)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var (
		u   string
		err error
	)
	if strings.TrimSpace(*uai) != "" || *all {
		if u, err = flagUAI(*uai); err != nil {
			return err
		}
	}
	a, err := flagAnnee(env, *annee)
	if err != nil {
		return err
	}
	b, err := switchDate(env)
	if err != nil {
		return err
	}
	log, err := newLogger(envOr(env, "LOG_LEVEL", "info"))
	if err != nil {
		return err
	}
	defer log.Sync()
	pool, err := openPool(ctx, env)
	if err != nil {
		return err
	}
	defer pool.Close()
	who := u
	if who == "" {
		who = "tous"
	}
	spool := recheckSpoolDir(env, who)
	consultations := postgres.NewConsultations(pool)
	j, err := journal.Open(ctx, journal.Options{Store: consultations, Partitions: consultations, SpoolDir: spool, Logger: log})
	if err != nil {
		return fmt.Errorf("consultation log: %w", err)
	}
	engine := &bourse.Service{Store: postgres.NewStore(pool), SwitchDate: b}
	store := postgres.NewSuivi(pool)
	start := time.Now()
	var (
		res  suivi.Result
		rerr error
		n    = 1
	)
	switch {
	case *all:
		res, rerr = suivi.Recheck(ctx, store, journal.Tracer(engine, j), u, a)
	case u != "":
		res, rerr = suivi.Nightly(ctx, store, engine, j, u, a)
	default:
		res, n, rerr = suivi.NightlyAll(ctx, store, engine, j, a)
	}

	// The answers must reach the log whatever happened: Close gets its own
	// time even when ctx was cancelled.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	cerr := j.Close(cctx)
	fmt.Fprintf(env.Stderr, "recheck %s %d: %d establishment(s), %d students not final, %d re-asked in %d batch(es), %d changed, %d decided by identity (not re-asked), in %s\n",
		who, a, n, res.Candidates, res.Reasked, res.Batches, res.Changes, res.NotReasked, time.Since(start).Round(time.Millisecond))
	if rerr != nil {
		return rerr
	}
	if cerr != nil {
		return fmt.Errorf("consultation log: %w", cerr)
	}
	if n := j.Stats().Spooled; n > 0 {
		// Not lost, but not in the database: the follow-up does not show
		// them yet. Fail, so that the timer or the CronJob says so.
		return fmt.Errorf("%d answers could not be written to the database; they wait in %s and are written at the next recheck of %s", n, spool, who)
	}
	return nil
}

// runReport builds the report of an establishment and prints it, or mails
// it with its CSV files attached.
func runReport(ctx context.Context, env Env, args []string) error {
	fs := newFlags("rapport", env)
	uai := fs.String("uai", "", "the establishment (UAI) whose report to build (required)")
	annee := fs.Int("annee", 0, "academic year, named by its first year (default: the current one)")
	since := fs.String("depuis", "", "the follow-up from this date on: YYYY-MM-DD (Paris time) or RFC 3339 (default: 24 hours ago)")
	to := fs.String("mail", "", "send the report to this address through the SMTP server of SMTP_HOST... (default: print it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	u, a, err := flagUAIAnnee(env, *uai, *annee)
	if err != nil {
		return err
	}
	t := time.Now().Add(-24 * time.Hour)
	if strings.TrimSpace(*since) != "" {
		if t, _, err = flagTime("--depuis", *since, true); err != nil {
			return err
		}
	}
	var smtp suivi.SMTP
	if *to != "" {
		// Check the configuration before the database work.
		if smtp, err = suivi.SMTPFromEnv(env.Getenv); err != nil {
			return err
		}
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		r, err := suivi.BuildReport(ctx, postgres.NewSuivi(pool), u, a, t)
		if err != nil {
			return err
		}
		if *to == "" {
			return r.WriteText(env.Stdout)
		}
		if err := suivi.Send(ctx, smtp, *to, r); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "report of %s %d sent to %s through %s\n", u, a, *to, smtp)
		return nil
	})
}
