package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/console"
	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

const utilisateursUsage = `usage:
  aglae-connector utilisateurs add --email ADDRESS (--uai UAI | --academie ACA) [--mot-de-passe-stdin]
      create a console account: a gestionnaire of an establishment (--uai) or a CROUS user of an
      académie (--academie, e.g. VER); prints a one-time password, or reads one from stdin
  aglae-connector utilisateurs list
      list the console's accounts
  aglae-connector utilisateurs disable ADDRESS
      disable an account: it can no longer sign in and its sessions end at once`

// runUtilisateurs manages the console's accounts: utilisateurs add|list|disable.
func runUtilisateurs(ctx context.Context, env Env, args []string) error {
	return runSubcommand(ctx, env, args, utilisateursUsage,
		subcommand{"add", runUtilisateursAdd}, subcommand{"list", runUtilisateursList}, subcommand{"disable", runUtilisateursDisable})
}

var (
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	academiePattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// minPassword is the shortest password a person may choose (NIST SP 800-63B).
const minPassword = 12

func runUtilisateursAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags("utilisateurs add", env)
	email := fs.String("email", "", "the person's e-mail address, their sign-in name (required)")
	uai := fs.String("uai", "", "the establishment of a gestionnaire, e.g. 0781944P")
	academie := fs.String("academie", "", "the académie of a CROUS user, three letters, e.g. VER")
	stdin := fs.Bool("mot-de-passe-stdin", false, "read the password from the first line of stdin instead of drawing one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	u := console.Utilisateur{Email: strings.ToLower(strings.TrimSpace(*email)), Academie: strings.ToUpper(strings.TrimSpace(*academie))}
	if !emailPattern.MatchString(u.Email) || len(u.Email) > 254 {
		return exitError{2, errors.New("--email must be an e-mail address, e.g. prenom.nom@univ.example.fr")}
	}
	switch {
	case (*uai == "") == (u.Academie == ""):
		return exitError{2, errors.New("give either --uai (a gestionnaire) or --academie (a CROUS user)")}
	case *uai != "":
		v, err := ident.ParseUAI(*uai)
		if err != nil {
			return exitError{2, fmt.Errorf("--uai: %w", err)}
		}
		u.UAI = v
	case !academiePattern.MatchString(u.Academie):
		return exitError{2, errors.New("--academie must be three letters, e.g. VER")}
	}
	password := console.NewPassword()
	if *stdin {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return exitError{2, errors.New("--mot-de-passe-stdin: no password on stdin")}
		}
		password = strings.TrimRight(line, "\r\n")
		if n := len([]rune(password)); n < minPassword || len(password) > 1024 {
			return exitError{2, fmt.Errorf("the password must have at least %d characters", minPassword)}
		}
	}
	hash, err := console.HashPassword(password)
	if err != nil {
		return err
	}
	u.Hash = hash

	pool, err := openPool(ctx, env)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := postgres.NewUtilisateurs(pool).Add(ctx, u); err != nil {
		return err
	}
	who := "gestionnaire of UAI " + u.UAI
	if u.UAI == "" {
		who = "CROUS user of académie " + u.Academie
	}
	fmt.Fprintf(env.Stderr, "account %s created (%s)\n", u.Email, who)
	if !*stdin {
		fmt.Fprintf(env.Stdout, "mot de passe: %s\n", password)
		fmt.Fprintln(env.Stderr, "The password is shown only now and is not stored: give it to its owner over another channel.")
	}
	return nil
}

func runUtilisateursList(ctx context.Context, env Env, args []string) error {
	if err := parseFlags(newFlags("utilisateurs list", env), args); err != nil {
		return err
	}
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		us, err := postgres.NewUtilisateurs(pool).List(ctx)
		if err != nil {
			return err
		}
		rows := make([][]string, len(us))
		for i, u := range us {
			rows[i] = []string{u.Email, orDash(u.UAI), orDash(u.Academie), u.CreatedAt.Format(time.RFC3339), timeOrDash(u.DisabledAt)}
		}
		return writeTable(env.Stdout, []string{"EMAIL", "UAI", "ACADEMIE", "CREATED", "DISABLED"}, rows)
	})
}

func runUtilisateursDisable(ctx context.Context, env Env, args []string) error {
	arg, err := parseOne(newFlags("utilisateurs disable", env), args, "e-mail address")
	if err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(arg))
	return withPool(ctx, env, func(pool *postgres.Pool) error {
		if err := postgres.NewUtilisateurs(pool).Disable(ctx, email); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "account %s disabled, its sessions ended\n", email)
		return nil
	})
}
