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

// Bilan is the report of an establishment for an academic year: the
// control lists and the follow-up since a time. It is written for the
// gestionnaires, in French: a summary (Texte) and one CSV file per list
// (Pieces).
type Bilan struct {
	UAI                string
	AnneeUniversitaire int
	Depuis             time.Time // the follow-up's start
	Genere             time.Time
	Controles          []Controle   // one per name of Listes, in that order
	Suivi              []Changement // of the year AnneeUniversitaire only
}

// Rapport builds the report of the establishment uai for the academic
// year annee: every control list, and the follow-up since depuis
// restricted to that year. Errors are of kind Invalid, Unavailable or
// Internal.
func Rapport(ctx context.Context, store Store, uai string, annee int, depuis time.Time) (*Bilan, error) {
	u, err := parseUAI(uai)
	if err != nil {
		return nil, err
	}
	if err := bourse.ValidateAnnee("annee", annee); err != nil {
		return nil, err
	}
	b := &Bilan{UAI: u, AnneeUniversitaire: annee, Depuis: depuis.In(bourse.Paris), Genere: time.Now().In(bourse.Paris)}
	es, err := etudiants(ctx, store, u, annee) // read once for every list
	if err != nil {
		return nil, err
	}
	for _, nom := range Listes {
		b.Controles = append(b.Controles, extraire(u, annee, nom, es))
	}
	cs, err := Suivi(ctx, store, u, depuis)
	if err != nil {
		return nil, err
	}
	b.Suivi = slices.DeleteFunc(cs, func(c Changement) bool { return c.AnneeUniversitaire != annee })
	return b, nil
}

// Controle returns the list nom of the report.
func (b *Bilan) Controle(nom string) Controle {
	for _, c := range b.Controles {
		if c.Liste == nom {
			return c
		}
	}
	return Controle{Liste: nom, UAI: b.UAI, AnneeUniversitaire: b.AnneeUniversitaire}
}

// anneeTexte writes academic year a as 2025-2026.
func anneeTexte(a int) string { return strconv.Itoa(a) + "-" + strconv.Itoa(a+1) }

// Sujet is the subject of the report's e-mail.
func (b *Bilan) Sujet() string {
	return fmt.Sprintf("Connecteur Aglaé : suivi et contrôles des boursiers, %s, année %s",
		b.UAI, anneeTexte(b.AnneeUniversitaire))
}

// descriptions say, in the report, what each list is for.
var descriptions = map[string]string{
	ListeNumerosDifferents:    "numéro de l'inscription différent du numéro de boursier connu d'Aglaé",
	ListeEnAttente:            "réponse EN_ATTENTE, les plus anciennes d'abord",
	ListeInconnus:             "identifiants inconnus d'Aglaé, probablement mal saisis",
	ListeIdentitesDifferentes: "numéro attribué à une autre personne dans Aglaé (identité différente)",
}

// libelle writes an answer's statut and type of decision, e.g.
// "BOURSIER DEFINITIVE".
func libelle(r Reponse) string {
	s := string(r.Statut)
	if r.TypeDecision != "" {
		s += " " + string(r.TypeDecision)
	}
	if r.Anomalie != "" {
		s += " (" + string(r.Anomalie) + ")"
	}
	return s
}

// Texte is the report's summary: the counts per statut, the size of each
// list and the follow-up's changes by kind. It names no student: they are
// in the CSV files.
func (b *Bilan) Texte() string {
	var t strings.Builder
	jour := func(x time.Time) string { return x.In(bourse.Paris).Format("02/01/2006 à 15:04") }
	fmt.Fprintf(&t, "Connecteur Aglaé, établissement %s, année universitaire %s\n", b.UAI, anneeTexte(b.AnneeUniversitaire))
	fmt.Fprintf(&t, "Rapport du %s (heure de Paris).\n\n", jour(b.Genere))

	st := b.Controle(ListeStatuts)
	t.WriteString("Dernière réponse donnée pour chaque étudiant consulté :\n")
	for _, c := range st.Statuts {
		fmt.Fprintf(&t, "  %-26s %7d\n", libelle(Reponse{Statut: c.Statut, TypeDecision: c.TypeDecision}), c.Etudiants)
	}
	fmt.Fprintf(&t, "  %-26s %7d\n\n", "Total", st.Total())

	t.WriteString("Listes de contrôle (fichiers CSV joints) :\n")
	for _, nom := range Listes[1:] {
		fmt.Fprintf(&t, "  %-22s %7d  %s\n", nom, b.Controle(nom).Total(), descriptions[nom])
	}

	fmt.Fprintf(&t, "\nSuivi : %d réponse(s) changée(s) depuis le %s", len(b.Suivi), jour(b.Depuis))
	if len(b.Suivi) == 0 {
		t.WriteString(".\n")
	} else {
		t.WriteString(" :\n")
		type transition struct{ avant, apres string }
		var ordre []transition
		n := map[transition]int{}
		for _, c := range b.Suivi {
			k := transition{libelle(c.Avant), libelle(c.Apres)}
			if n[k] == 0 {
				ordre = append(ordre, k)
			}
			n[k]++
		}
		slices.SortStableFunc(ordre, func(x, y transition) int { return n[y] - n[x] })
		for _, k := range ordre {
			fmt.Fprintf(&t, "  %s -> %s : %d\n", k.avant, k.apres, n[k])
		}
		if k := b.compteApres(bourse.StatutNonBoursier); k > 0 {
			fmt.Fprintf(&t, "  dont %d devenu(s) NON_BOURSIER : les droits d'inscription peuvent être demandés.\n", k)
		}
	}
	t.WriteString("\nLes réponses suivent les données d'Aglaé à la date de la dernière consultation ou de la\n" +
		"dernière revérification nocturne (recheck) de chaque étudiant.\n")
	return t.String()
}

func (b *Bilan) compteApres(s bourse.Statut) int {
	n := 0
	for _, c := range b.Suivi {
		if c.Apres.Statut == s {
			n++
		}
	}
	return n
}

// Piece is a file attached to the report.
type Piece struct {
	Nom     string
	Contenu []byte
}

// Pieces are the report's CSV files: the follow-up, then one per list,
// named after it, the establishment and the year
// (suivi-0781944P-2025.csv, statuts-0781944P-2025.csv…).
func (b *Bilan) Pieces() ([]Piece, error) {
	var out []Piece
	var buf bytes.Buffer
	if err := EcrireSuivi(&buf, FormatCSV, b.UAI, b.Depuis, b.Suivi); err != nil {
		return nil, err
	}
	out = append(out, Piece{b.fichier("suivi"), bytes.Clone(buf.Bytes())})
	for _, c := range b.Controles {
		buf.Reset()
		if err := EcrireListe(&buf, FormatCSV, c); err != nil {
			return nil, err
		}
		out = append(out, Piece{b.fichier(c.Liste), bytes.Clone(buf.Bytes())})
	}
	return out, nil
}

func (b *Bilan) fichier(nom string) string {
	return nom + "-" + b.UAI + "-" + strconv.Itoa(b.AnneeUniversitaire) + ".csv"
}

// Ecrire writes the report to w as text: the summary, then each CSV file
// after a line naming it.
func (b *Bilan) Ecrire(w io.Writer) error {
	pieces, err := b.Pieces()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(b.Texte())
	for _, p := range pieces {
		fmt.Fprintf(&buf, "\n===== %s =====\n", p.Nom)
		buf.Write(p.Contenu)
	}
	_, err = w.Write(buf.Bytes())
	return err
}
