package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// Usage of the consultations command, for the commands list:
//
//	consultations [--uai UAI] --depuis DATE [--jusqua DATE] [--format csv|json]
//	                               export the consultation log to stdout
//	consultations purge --avant DATE
//	                               drop the consultations recorded before DATE's month (retention, whole months)
//
// DATE is YYYY-MM-DD (midnight, Paris time) or RFC 3339. --jusqua given as a
// date includes that whole day.
func runConsultations(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "purge" {
		return runConsultationsPurge(ctx, env, args[1:])
	}
	fs := newFlags("consultations", env)
	uai := fs.String("uai", "", "the establishment (UAI) whose consultations to export; all when absent")
	since := fs.String("depuis", "", "export from this date on: YYYY-MM-DD (Paris time) or RFC 3339 (required)")
	until := fs.String("jusqua", "", "export up to this date, included when given as YYYY-MM-DD; RFC 3339: excluded (default: now)")
	format := fs.String("format", "csv", "csv (with a header line) or json (JSON Lines)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return exitError{2, fmt.Errorf("unexpected argument %q (did you mean `consultations purge`?)", pos[0])}
	}
	var f journal.Filter
	u, err := bourse.ParseOptionalUAI("--uai", *uai)
	if err != nil {
		return exitError{2, err}
	}
	f.UAI = string(u)
	if f.Since, _, err = flagTime("--depuis", *since, true); err != nil {
		return err
	}
	if strings.TrimSpace(*until) != "" {
		t, dateOnly, err := flagTime("--jusqua", *until, false)
		if err != nil {
			return err
		}
		if dateOnly {
			t = t.AddDate(0, 0, 1) // the whole day
		}
		if !t.After(f.Since) {
			return exitError{2, errors.New("--jusqua must come after --depuis")}
		}
		f.Until = t
	}
	if *format != "csv" && *format != "json" {
		return exitError{2, fmt.Errorf("--format: want csv or json, got %q", *format)}
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		n, err := journal.Export(ctx, postgres.NewConsultations(pool), f, env.Stdout, *format)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "%d consultations exported\n", n)
		return nil
	})
}

func runConsultationsPurge(ctx context.Context, env Env, args []string) error {
	fs := newFlags("consultations purge", env)
	before := fs.String("avant", "", "drop the consultations recorded before the first day of this date's month, 00:00 Paris time "+
		"(the log is kept by whole months: the rest of that month stays until a later purge): YYYY-MM-DD (Paris time) or RFC 3339 (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, _, err := flagTime("--avant", *before, true)
	if err != nil {
		return err
	}
	if t.After(time.Now()) {
		return exitError{2, errors.New("--avant is in the future: that would delete consultations not recorded yet")}
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		start := time.Now()
		res, err := journal.Purge(ctx, postgres.NewConsultations(pool), t)
		if err != nil {
			return err
		}
		months := "no month"
		if len(res.Months) > 0 {
			months = strings.Join(res.Months, ", ")
		}
		fmt.Fprintf(env.Stderr, "consultations recorded before %s dropped: %s (%d rows outside the months), in %s\n",
			res.Limit.Format(time.RFC3339), months, res.DefaultRows, time.Since(start).Round(time.Millisecond))
		return nil
	})
}

// cliParis is the time zone of the dates given on the command line.
var cliParis = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // embedded by package bourse's time/tzdata
	}
	return loc
}()

// flagTime reads the date flag name: YYYY-MM-DD (midnight, Paris time;
// dateOnly true) or RFC 3339. An empty value is an error when required,
// else the zero time.
func flagTime(name, v string, required bool) (t time.Time, dateOnly bool, err error) {
	if strings.TrimSpace(v) == "" {
		if required {
			return time.Time{}, false, exitError{2, fmt.Errorf("%s is required (YYYY-MM-DD or RFC 3339)", name)}
		}
		return time.Time{}, false, nil
	}
	if t, dateOnly, err = parseDateOrTime(v); err != nil {
		return time.Time{}, false, exitError{2, fmt.Errorf("%s: %w", name, err)}
	}
	return t, dateOnly, nil
}

// parseDateOrTime reads YYYY-MM-DD (midnight, Paris time; dateOnly true) or
// an RFC 3339 time.
func parseDateOrTime(s string) (t time.Time, dateOnly bool, err error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation(time.DateOnly, s, cliParis); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is neither a date YYYY-MM-DD nor an RFC 3339 time", s)
}
