package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
)

const validationsUsage = `usage:
  aglae-connector validations --depuis T
      write the validations made, cancelled or acknowledged since T (YYYY-MM-DD, Paris time, or RFC 3339)
      as JSON Lines on stdout, for Aglaé
  aglae-connector validations ack ID...
      record Aglaé's acknowledgment of the validations ID...: an ANNULATION after it only marks the dossier`

// runValidations hands the validations to Aglaé: validations --depuis T |
// ack ID...
func runValidations(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "ack" {
		return runValidationsAck(ctx, env, args[1:])
	}
	fs := newFlags("validations", env)
	since := fs.String("depuis", "", "hand over the validations changed from this time on (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	depuis, _, err := flagTime("--depuis", *since, true)
	if err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		ins, err := postgres.NewInscriptions(pool)
		if err != nil {
			return err
		}
		vs, modifs, err := ins.Validations(ctx, depuis, 1<<30)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.Stdout)
		for i, v := range vs {
			if err := enc.Encode(toValidationLine(v, modifs[i])); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.Stderr, "validations: %d since %s\n", len(vs), depuis.In(cliParis).Format(time.RFC3339))
		return nil
	})
}

// validationLine is one validation in the JSON Lines handed to Aglaé: its
// wire form, as a receipt shows it (the extract's conventions: camelCase
// names, amounts in euros with two decimals), with the day it was made and
// when it last changed, from which the next `--depuis` goes on.
type validationLine struct {
	rest.Validation
	Date      string `json:"date"`
	ModifieLe string `json:"modifieLe"`
}

func toValidationLine(v bourse.Validation, modif time.Time) validationLine {
	return validationLine{Validation: rest.ToValidation(v), Date: v.CreeLe.In(cliParis).Format(time.DateOnly),
		ModifieLe: modif.In(cliParis).Format(time.RFC3339Nano)}
}

func runValidationsAck(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return exitError{2, errors.New(validationsUsage)}
	}
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return exitError{2, fmt.Errorf("validations ack: %q is not a validation id (a positive integer)", a)}
		}
		ids = append(ids, id)
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		ins, err := postgres.NewInscriptions(pool)
		if err != nil {
			return err
		}
		n, err := ins.Ack(ctx, ids)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "validations: %d acknowledged (%d already were, or do not exist)\n", n, int64(len(ids))-n)
		return nil
	})
}

// runInscriptions prints the registration events by state, the job queue
// and its dead letter.
func runInscriptions(ctx context.Context, env Env, args []string) error {
	fs := newFlags("inscriptions", env)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		ins, err := postgres.NewInscriptions(pool)
		if err != nil {
			return err
		}
		counts, err := ins.Counts(ctx)
		if err != nil {
			return err
		}
		jobs, err := ins.Jobs(ctx)
		if err != nil {
			return err
		}
		dead, err := ins.Discarded(ctx, 100)
		if err != nil {
			return err
		}
		if *asJSON {
			type deadJSON struct {
				Job       int64  `json:"job"`
				IdRecu    string `json:"idRecu"`
				Attempts  int    `json:"attempts"`
				LastError string `json:"lastError"`
				At        string `json:"at"`
			}
			out := struct {
				Etats     map[bourse.EtatInscription]int64 `json:"etats"`
				Pending   int64                            `json:"jobsPending"`
				Running   int64                            `json:"jobsRunning"`
				Discarded int64                            `json:"jobsDiscarded"`
				Dead      []deadJSON                       `json:"discarded"`
			}{Etats: counts, Pending: jobs.Pending, Running: jobs.Running, Discarded: jobs.Discarded, Dead: []deadJSON{}}
			for _, d := range dead {
				out.Dead = append(out.Dead, deadJSON{d.ID, d.IdRecu, d.Attempts, d.LastError, d.At.In(cliParis).Format(time.RFC3339)})
			}
			return writeJSON(env.Stdout, out)
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ETAT\tEVENTS")
		etats := make([]string, 0, len(counts))
		for e := range counts {
			etats = append(etats, string(e))
		}
		slices.Sort(etats)
		for _, e := range etats {
			fmt.Fprintf(tw, "%s\t%d\n", e, counts[bourse.EtatInscription(e)])
		}
		fmt.Fprintf(tw, "\njobs pending\t%d\njobs running\t%d\njobs discarded (dead letter)\t%d\n", jobs.Pending, jobs.Running, jobs.Discarded)
		if len(dead) > 0 {
			fmt.Fprintln(tw, "\nJOB\tRECU\tATTEMPTS\tAT\tLAST ERROR")
			for _, d := range dead {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", d.ID, d.IdRecu, d.Attempts, d.At.In(cliParis).Format(time.RFC3339), d.LastError)
			}
		}
		return tw.Flush()
	})
}

// bindAcademie makes the new client clientID a CROUS's client.
func bindAcademie(ctx context.Context, pool *postgres.Pool, clientID, academie string) error {
	ins, err := postgres.NewInscriptions(pool)
	if err != nil {
		return err
	}
	return ins.BindAcademie(ctx, clientID, academie)
}
