package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

const clientsUsage = `usage:
  aglae-connector clients add --nom NOM [--uai UAI | --academie ACA] [--certificat SUBJECT] [--debit N] [--rafale N] [--json]
      create an API client and print its id and secret, once; --academie makes it a CROUS's client
  aglae-connector clients list
      list the API clients
  aglae-connector clients revoke ID
      revoke a client: it is refused within seconds`

// runClients manages the API clients: clients add|list|revoke.
func runClients(ctx context.Context, env Env, args []string) error {
	return runSubcommand(ctx, env, args, clientsUsage,
		subcommand{"add", runClientsAdd}, subcommand{"list", runClientsList}, subcommand{"revoke", runClientsRevoke})
}

func runClientsAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags("clients add", env)
	nom := fs.String("nom", "", "the client's name, e.g. \"UVSQ Apogée\" (required)")
	uai := fs.String("uai", "", "the establishment's UAI code, e.g. 0781944P (none for an integrator)")
	subject := fs.String("certificat", "", "subject of the client certificate that authenticates it over mutual TLS,\nas Go prints it (RFC 2253 order), e.g. \"CN=apogee.uvsq.fr,O=UVSQ,C=FR\"")
	rate := fs.Float64("debit", 0, "lookups per second allowed (default: the service's)")
	burst := fs.Int("rafale", 0, "burst of lookups allowed above the rate (default: the service's)")
	asJSON := fs.Bool("json", false, `print {"id": ..., "secret": ...} only`)
	academie := fs.String("academie", "", "the académie of a CROUS's client, e.g. VER: it reads and settles the registrations marked there")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *academie != "" {
		if _, err := bourse.ValidAcademie("--academie", *academie); err != nil {
			return exitError{2, err}
		}
		if *uai != "" {
			return exitError{2, errors.New("--academie and --uai exclude each other: a CROUS's client belongs to no establishment")}
		}
	}

	// Validate before connecting.
	c := auth.NewClient{Nom: strings.TrimSpace(*nom), CertSubject: strings.TrimSpace(*subject), Rate: *rate, Burst: *burst}
	switch n := utf8.RuneCountInString(c.Nom); {
	case n == 0:
		return exitError{2, errors.New("--nom is required")}
	case n > 200:
		return exitError{2, fmt.Errorf("--nom has %d characters, at most 200 are allowed", n)}
	}
	if *uai != "" {
		v, err := bourse.ParseUAI("--uai", *uai)
		if err != nil {
			return exitError{2, err}
		}
		c.UAI = string(v)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate > math.MaxFloat32 {
		return exitError{2, errors.New("--debit must be a positive number of lookups per second")}
	}
	if c.Burst < 0 || c.Burst > math.MaxInt32 {
		return exitError{2, errors.New("--rafale must be a positive number of lookups")}
	}

	pool, err := openPool(ctx, env)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewClients(pool)

	var secret string
	for try := 0; ; try++ {
		c.ID, secret = auth.NewCredentials()
		if c.SecretHash, err = auth.HashSecret(secret); err != nil {
			return err
		}
		err = store.Add(ctx, c)
		var be *bourse.Error
		if err != nil && try < 3 && errors.As(err, &be) && be.Field == "id" {
			continue // 60 random bits collided: draw again
		}
		if err != nil {
			return err
		}
		break
	}
	if *academie != "" {
		if err := bindAcademie(ctx, pool, c.ID, *academie); err != nil {
			return err
		}
	}

	if *asJSON {
		return writeJSON(env.Stdout, struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}{c.ID, secret})
	}
	who := "integrator"
	if c.UAI != "" {
		who = "UAI " + c.UAI
	}
	if *academie != "" {
		who = "CROUS, académie " + *academie
	}
	fmt.Fprintf(env.Stderr, "client %q created (%s)\n", c.Nom, who)
	fmt.Fprintf(env.Stdout, "id:     %s\nsecret: %s\n", c.ID, secret)
	fmt.Fprintln(env.Stderr, "The secret is shown only now and is not stored: keep it safe.\n"+
		"REST: send `Authorization: Bearer SECRET`; SOAP: HTTP Basic with ID and SECRET.")
	return nil
}

func runClientsList(ctx context.Context, env Env, args []string) error {
	if err := parseFlags(newFlags("clients list", env), args); err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		cs, err := postgres.NewClients(pool).List(ctx)
		if err != nil {
			return err
		}
		rows := make([][]string, len(cs))
		for i, c := range cs {
			rows[i] = []string{c.ID, tabless(c.Nom), orDash(c.UAI), c.CreatedAt.Format(time.RFC3339), timeOrDash(c.RevokedAt)}
		}
		return writeTable(env.Stdout, []string{"ID", "NOM", "UAI", "CREATED", "REVOKED"}, rows)
	})
}

// tabless keeps a name from breaking the table's columns.
func tabless(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func runClientsRevoke(ctx context.Context, env Env, args []string) error {
	id, err := parseOne(newFlags("clients revoke", env), args, "client ID")
	if err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		if err := postgres.NewClients(pool).Revoke(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "client %s revoked: a running service refuses it within %s\n", id, auth.DefaultCacheTTL)
		return nil
	})
}
