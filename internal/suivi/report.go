package suivi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Report is the report of an establishment for an academic year: the
// control lists and the follow-up since a time. It is written for the
// gestionnaires, in French: a summary (Text) and one CSV file per list
// (Attachments).
type Report struct {
	UAI                string
	AnneeUniversitaire int
	Since              time.Time // the follow-up's start
	GeneratedAt        time.Time
	Controles          []Controle // one per name of Listes, in that order
	Suivi              []Change   // of the year AnneeUniversitaire only
}

// BuildReport builds the report of the establishment uai for the academic
// year annee: every control list, and the follow-up from since on,
// restricted to that year. Errors are of kind Invalid, Unavailable or
// Internal.
func BuildReport(ctx context.Context, store Store, uai string, annee int, since time.Time) (*Report, error) {
	code, err := bourse.ParseUAI("uai", uai)
	if err != nil {
		return nil, err
	}
	u := string(code)
	if err := bourse.ValidateAnnee("annee", annee); err != nil {
		return nil, err
	}
	b := &Report{UAI: u, AnneeUniversitaire: annee, Since: since.In(bourse.Paris), GeneratedAt: time.Now().In(bourse.Paris)}
	es, err := etudiants(ctx, store, u, annee) // read once for every list
	if err != nil {
		return nil, err
	}
	for _, nom := range Listes {
		b.Controles = append(b.Controles, extractListe(u, annee, nom, es))
	}
	cs, err := Suivi(ctx, store, u, since)
	if err != nil {
		return nil, err
	}
	b.Suivi = slices.DeleteFunc(cs, func(c Change) bool { return c.AnneeUniversitaire != annee })
	return b, nil
}

// Controle returns the list nom of the report.
func (b *Report) Controle(nom string) Controle {
	for _, c := range b.Controles {
		if c.Liste == nom {
			return c
		}
	}
	return Controle{Liste: nom, UAI: b.UAI, AnneeUniversitaire: b.AnneeUniversitaire}
}

// formatAnnee writes academic year a as 2025-2026.
func formatAnnee(a int) string { return strconv.Itoa(a) + "-" + strconv.Itoa(a+1) }

// Subject is the subject of the report's e-mail.
func (b *Report) Subject() string {
	return fmt.Sprintf("Connecteur Aglaé : suivi et contrôles des boursiers, %s, année %s",
		b.UAI, formatAnnee(b.AnneeUniversitaire))
}

// descriptions say, in the report, what each list is for.
var descriptions = map[string]string{
	ListeNumerosDifferents:    "numéro de l'inscription différent du numéro de boursier connu d'Aglaé",
	ListeEnAttente:            "réponse EN_ATTENTE, les plus anciennes d'abord",
	ListeInconnus:             "identifiants inconnus d'Aglaé, probablement mal saisis",
	ListeIdentitesDifferentes: "numéro attribué à une autre personne dans Aglaé (identité différente)",
}

// label writes an answer's statut and type of decision, e.g.
// "BOURSIER DEFINITIVE".
func label(r Reponse) string {
	s := string(r.Statut)
	if r.TypeDecision != "" {
		s += " " + string(r.TypeDecision)
	}
	if r.Anomalie != "" {
		s += " (" + string(r.Anomalie) + ")"
	}
	return s
}

// Text is the report's summary: the counts per statut, the size of each
// list and the follow-up's changes by kind. It names no student: they are
// in the CSV files.
func (b *Report) Text() string {
	var t strings.Builder
	day := func(x time.Time) string { return x.In(bourse.Paris).Format("02/01/2006 à 15:04") }
	fmt.Fprintf(&t, "Connecteur Aglaé, établissement %s, année universitaire %s\n", b.UAI, formatAnnee(b.AnneeUniversitaire))
	fmt.Fprintf(&t, "Rapport du %s (heure de Paris).\n\n", day(b.GeneratedAt))

	st := b.Controle(ListeStatuts)
	t.WriteString("Dernière réponse donnée pour chaque étudiant consulté :\n")
	for _, c := range st.Statuts {
		fmt.Fprintf(&t, "  %-26s %7d\n", label(Reponse{Statut: c.Statut, TypeDecision: c.TypeDecision}), c.Etudiants)
	}
	fmt.Fprintf(&t, "  %-26s %7d\n\n", "Total", st.Total())

	t.WriteString("Listes de contrôle (fichiers CSV joints) :\n")
	for _, nom := range Listes[1:] {
		fmt.Fprintf(&t, "  %-22s %7d  %s\n", nom, b.Controle(nom).Total(), descriptions[nom])
	}

	fmt.Fprintf(&t, "\nSuivi : %d réponse(s) changée(s) depuis le %s", len(b.Suivi), day(b.Since))
	if len(b.Suivi) == 0 {
		t.WriteString(".\n")
	} else {
		t.WriteString(" :\n")
		type transition struct{ before, after string }
		var order []transition
		n := map[transition]int{}
		for _, c := range b.Suivi {
			k := transition{label(c.Before), label(c.After)}
			if n[k] == 0 {
				order = append(order, k)
			}
			n[k]++
		}
		slices.SortStableFunc(order, func(x, y transition) int { return n[y] - n[x] })
		for _, k := range order {
			fmt.Fprintf(&t, "  %s -> %s : %d\n", k.before, k.after, n[k])
		}
		if k := b.countAfter(bourse.StatutNonBoursier); k > 0 {
			fmt.Fprintf(&t, "  dont %d devenu(s) NON_BOURSIER : les droits d'inscription peuvent être demandés.\n", k)
		}
	}
	t.WriteString("\nLes réponses suivent les données d'Aglaé à la date de la dernière consultation ou de la\n" +
		"dernière revérification nocturne (recheck) de chaque étudiant.\n")
	return t.String()
}

func (b *Report) countAfter(s bourse.Statut) int {
	n := 0
	for _, c := range b.Suivi {
		if c.After.Statut == s {
			n++
		}
	}
	return n
}

// Attachment is a file attached to the report.
type Attachment struct {
	Nom     string
	Content []byte
}

// Attachments are the report's CSV files: the follow-up, then one per list,
// named after it, the establishment and the year
// (suivi-0781944P-2025.csv, statuts-0781944P-2025.csv…).
func (b *Report) Attachments() ([]Attachment, error) {
	var out []Attachment
	var buf bytes.Buffer
	if err := WriteSuivi(&buf, FormatCSV, b.UAI, b.Since, b.Suivi); err != nil {
		return nil, err
	}
	out = append(out, Attachment{b.fileName("suivi"), bytes.Clone(buf.Bytes())})
	for _, c := range b.Controles {
		buf.Reset()
		if err := WriteListe(&buf, FormatCSV, c); err != nil {
			return nil, err
		}
		out = append(out, Attachment{b.fileName(c.Liste), bytes.Clone(buf.Bytes())})
	}
	return out, nil
}

func (b *Report) fileName(nom string) string {
	return nom + "-" + b.UAI + "-" + strconv.Itoa(b.AnneeUniversitaire) + ".csv"
}

// WriteText writes the report to w as text: the summary, then each CSV file
// after a line naming it.
func (b *Report) WriteText(w io.Writer) error {
	pieces, err := b.Attachments()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(b.Text())
	for _, p := range pieces {
		fmt.Fprintf(&buf, "\n===== %s =====\n", p.Nom)
		buf.Write(p.Content)
	}
	_, err = w.Write(buf.Bytes())
	return err
}
