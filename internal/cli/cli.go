// Package cli is the aglae-connector command line: it parses the
// subcommands and their flags and wires the other packages together.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// OSEnv is the process's own environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, env Env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"serve", "serve [--listen HOST:PORT]     answer lookups over REST and SOAP", runServe},
		{"migrate", "migrate [--down]               apply the database migrations (--down: undo the last one)", runMigrate},
		{"import", "import FILE|-                  import an Aglaé extract (JSON Lines); - reads stdin", runImport},
		{"demo", "demo [--dossiers N] [--out FILE] write a realistic demo extract", runDemo},
		{"clients", "clients add|list|revoke        manage the API clients (add --uai UAI --nom NAME [--json])", runClients},
		{"utilisateurs", "utilisateurs add|list|disable   manage the console's accounts (add --email ADDRESS --uai UAI | --academie ACA)", runUtilisateurs},
		{"consultations", "consultations --uai UAI --depuis DATE [--format csv|json] | purge --avant DATE\n                                 export or purge the consultation log (the purge drops whole months before DATE's)", runConsultations},
		{"check", "check IDENTIFIANT [--annee YYYY] [--nom N --prenom P --date-naissance YYYY-MM-DD]\n                                 answer one lookup, as Apogée would get it", runCheck},
		{"suivi", "suivi --uai UAI --depuis DATE [--format csv|json]\n                                 the students whose answer changed since DATE (the follow-up)", runSuivi},
		{"controles", "controles --uai UAI [--annee YYYY] LISTE [--format csv|json]\n                                 a control list: statuts, numeros-differents, en-attente, inconnus, identites-differentes", runControles},
		{"recheck", "recheck [--uai UAI] [--annee YYYY] [--tous]\n                                 re-ask the engine about the students still waiting whose dossier changed, and record the answers that changed", runRecheck},
		{"validations", "validations --depuis T | ack ID...\n                                 hand the validations made from registrations to Aglaé (JSON Lines), record its acknowledgment", runValidations},
		{"inscriptions", "inscriptions [--json]          the registration events by state, and the dead letter (jobs that failed every attempt)", runInscriptions},
		{"rapport", "rapport --uai UAI [--annee YYYY] [--depuis DATE] [--mail ADDRESS]\n                                 the lists and the follow-up: printed, or mailed with the CSV files attached", runReport},
	}
}

// exitError carries a command's exit status when it is not 1.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

// Run runs the command line args (without the program name) and returns
// the process's exit status.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(env.Stderr, "aglae-connector: unknown command %q\n", args[0])
		usage(env.Stderr)
		return 2
	}
	err := commands[i].run(ctx, env, args[1:])
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(env.Stderr, "aglae-connector %s: %s\n", args[0], userMessage(err))
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// userMessage is what an operator is told of err: the full chain for
// internal errors, the safe message otherwise.
func userMessage(err error) string {
	var e *bourse.Error
	if errors.As(err, &e) && e.Kind == bourse.KindInvalid {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return err.Error()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: aglae-connector COMMAND [FLAGS]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %s\n", c.usage)
	}
	fmt.Fprintln(w, "\nenvironment: DATABASE_URL (PostgreSQL connection string); see the README for the others")
}

// parse parses args with fs, letting flags come before or after the
// positional arguments, which it returns.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, exitError{2, err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseFlags parses args with fs for a command that takes flags only.
func parseFlags(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		err = exitError{2, fmt.Errorf("unexpected argument %q", pos[0])}
	}
	return err
}

// parseOne parses args with fs for a command that takes one positional
// argument, what it is named in the error when there is not exactly one.
func parseOne(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", exitError{2, errors.New("want one " + what)}
	}
	return pos[0], nil
}

// subcommand is one of a command's subcommands, as clients add.
type subcommand struct {
	name string
	run  func(ctx context.Context, env Env, args []string) error
}

// runSubcommand runs the subcommand of subs named by args[0], printing
// usage when there is none or it is unknown.
func runSubcommand(ctx context.Context, env Env, args []string, usage string, subs ...subcommand) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, usage)
		return exitError{2, errors.New("want a subcommand: " + want)}
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintln(env.Stderr, usage)
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return flag.ErrHelp
	}
	return exitError{2, fmt.Errorf("unknown subcommand %q: want %s", args[0], want)}
}

// writeTable writes a table of aligned columns: the header, then rows.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range append([][]string{header}, rows...) {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// orDash is s, or - when s is empty, for a table's cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timeOrDash is t in RFC 3339, or - when t is nil, for a table's cell.
func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func newFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// databaseURL reads DATABASE_URL.
func databaseURL(env Env) (string, error) {
	u := strings.TrimSpace(env.Getenv("DATABASE_URL"))
	if u == "" {
		return "", errors.New("DATABASE_URL is not set (e.g. postgres://user@/aglae?host=/run/postgresql)")
	}
	return u, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
