package suivi

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// The control lists, by the name the API and the command line use.
const (
	// ListeNumerosDifferents: students found by their identity under
	// another number than the one the establishment sent (correspondance
	// IDENTITE), with both numbers: the registration should carry Aglaé's
	// number, or the CROUS be told. A student leaves the list once the
	// establishment asks about Aglaé's number itself (the registration was
	// corrected).
	ListeNumerosDifferents = "numeros-differents"
	// ListeEnAttente: students whose last answer is EN_ATTENTE, longest
	// waiting first; an identity conflict (also EN_ATTENTE) is in
	// ListeIdentitesDifferentes instead.
	ListeEnAttente = "en-attente"
	// ListeInconnus: identifiers whose last answer is INCONNU (never found
	// since), probably mistyped, with how many times the establishment
	// asked about them.
	ListeInconnus = "inconnus"
	// ListeIdentitesDifferentes: students whose last answer is the anomaly
	// IDENTITE_DIFFERENTE: their number belongs to someone else in Aglaé.
	ListeIdentitesDifferentes = "identites-differentes"
	// ListeStatuts: how many students have each last answer, per statut
	// (and per typeDecision for BOURSIER), like the pilot's report.
	ListeStatuts = "statuts"
)

// Listes are the names of the control lists, in the report's order.
var Listes = []string{ListeStatuts, ListeNumerosDifferents, ListeEnAttente, ListeInconnus, ListeIdentitesDifferentes}

// Etudiant is one student of a control list: their identifier, their last
// answer, since when that answer has been given, and how the establishment
// asked about them. The re-check's own lookups are not consultations of
// the establishment: they count in Since, not in Consultations and the
// consultation times.
type Etudiant struct {
	Identifiant string `json:"identifiant"`
	Reponse
	Since             time.Time  `json:"depuis"`
	Consultations     int        `json:"consultations"`
	FirstConsultation *time.Time `json:"premiereConsultation,omitempty"`
	LastConsultation  *time.Time `json:"derniereConsultation,omitempty"`
}

// StatutCount is the number of students whose last answer has a statut (and,
// for BOURSIER, a type of decision).
type StatutCount struct {
	Statut       bourse.Statut       `json:"statut"`
	TypeDecision bourse.TypeDecision `json:"typeDecision,omitempty"`
	Etudiants    int                 `json:"etudiants"`
}

// Controle is a control list of an establishment for an academic year:
// Etudiants for the lists of students, Statuts for ListeStatuts.
type Controle struct {
	Liste              string
	UAI                string
	AnneeUniversitaire int
	Etudiants          []Etudiant
	Statuts            []StatutCount
}

// MarshalJSON writes {liste, uai, anneeUniversitaire} and either
// etudiants (an array, possibly empty) or, for the statuts list, statuts
// and their total.
func (c Controle) MarshalJSON() ([]byte, error) {
	type header struct {
		Liste              string `json:"liste"`
		UAI                string `json:"uai"`
		AnneeUniversitaire int    `json:"anneeUniversitaire"`
	}
	h := header{c.Liste, c.UAI, c.AnneeUniversitaire}
	if c.Liste == ListeStatuts {
		return json.Marshal(struct {
			header
			Statuts []StatutCount `json:"statuts"`
			Total   int           `json:"total"`
		}{h, nonNil(c.Statuts), c.Total()})
	}
	return json.Marshal(struct {
		header
		Etudiants []Etudiant `json:"etudiants"`
	}{h, nonNil(c.Etudiants)})
}

// Total is the number of students the list counts: the sum of the statuts
// counts, or the number of students listed.
func (c Controle) Total() int {
	if c.Liste != ListeStatuts {
		return len(c.Etudiants)
	}
	n := 0
	for _, s := range c.Statuts {
		n += s.Etudiants
	}
	return n
}

// StatutCount returns the count of statut s (and type of decision t).
func (c Controle) StatutCount(s bourse.Statut, t bourse.TypeDecision) int {
	for _, x := range c.Statuts {
		if x.Statut == s && x.TypeDecision == t {
			return x.Etudiants
		}
	}
	return 0
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// statutsOrder is the order of the statuts list; every line is present,
// zero included.
var statutsOrder = []StatutCount{
	{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive},
	{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle},
	{Statut: bourse.StatutEnAttente},
	{Statut: bourse.StatutNonBoursier},
	{Statut: bourse.StatutInconnu},
}

// Liste returns the control list nom ([Listes]) of the establishment uai
// for the academic year annee. Errors are of kind Invalid (uai, annee, an
// unknown list), Unavailable or Internal.
func Liste(ctx context.Context, store Store, uai string, annee int, nom string) (Controle, error) {
	if nom != ListeStatuts && filters[nom] == nil {
		return Controle{}, bourse.Invalid("liste", "unknown list %q: want one of %s", clip(nom), strings.Join(Listes, ", "))
	}
	code, err := bourse.ParseUAI("uai", uai)
	if err != nil {
		return Controle{}, err
	}
	u := string(code)
	if err := bourse.ValidateAnnee("annee", annee); err != nil {
		return Controle{}, err
	}
	es, err := etudiants(ctx, store, u, annee)
	if err != nil {
		return Controle{}, err
	}
	return extractListe(u, annee, nom, es), nil
}

// etudiants reads the students of the establishment uai for the year
// annee, their times in Paris time.
func etudiants(ctx context.Context, store Store, uai string, annee int) ([]Etudiant, error) {
	es, err := store.Etudiants(ctx, uai, annee)
	if err != nil {
		return nil, err
	}
	for i := range es {
		e := &es[i]
		e.Since = e.Since.In(bourse.Paris)
		e.FirstConsultation = inParis(e.FirstConsultation)
		e.LastConsultation = inParis(e.LastConsultation)
	}
	return es, nil
}

// filters select and order the students of each list.
var filters = map[string]func(es []Etudiant) []Etudiant{
	ListeNumerosDifferents: func(es []Etudiant) []Etudiant {
		// The last time the establishment asked about each number.
		last := make(map[string]time.Time, len(es))
		for _, e := range es {
			if e.LastConsultation != nil {
				last[e.Identifiant] = *e.LastConsultation
			}
		}
		out := keep(es, func(e *Etudiant) bool {
			if e.Correspondance != bourse.ByIdentity {
				return false
			}
			// Corrected: the establishment asked about Aglaé's number since.
			t, ok := last[e.IdentifiantAglae]
			return !ok || e.LastConsultation == nil || !t.After(*e.LastConsultation)
		})
		slices.SortFunc(out, func(a, b Etudiant) int { return strings.Compare(a.Identifiant, b.Identifiant) })
		return out
	},
	ListeEnAttente: func(es []Etudiant) []Etudiant {
		return sortBySince(keep(es, func(e *Etudiant) bool { return e.Statut == bourse.StatutEnAttente && e.Anomalie == "" }))
	},
	ListeInconnus: func(es []Etudiant) []Etudiant {
		out := keep(es, func(e *Etudiant) bool { return e.Statut == bourse.StatutInconnu })
		slices.SortFunc(out, func(a, b Etudiant) int {
			pa, pb := a.FirstConsultation, b.FirstConsultation
			switch {
			case pa == nil && pb != nil:
				return 1
			case pa != nil && pb == nil:
				return -1
			case pa != nil && !pa.Equal(*pb):
				return pa.Compare(*pb)
			}
			return strings.Compare(a.Identifiant, b.Identifiant)
		})
		return out
	},
	ListeIdentitesDifferentes: func(es []Etudiant) []Etudiant {
		return sortBySince(keep(es, func(e *Etudiant) bool { return e.Anomalie == bourse.AnomalieIdentiteDifferente }))
	},
}

// extractListe returns the list nom of the students es of the establishment
// uai for the year annee.
func extractListe(uai string, annee int, nom string, es []Etudiant) Controle {
	c := Controle{Liste: nom, UAI: uai, AnneeUniversitaire: annee}
	if nom == ListeStatuts {
		c.Statuts = countByStatut(es)
	} else {
		c.Etudiants = filters[nom](es)
	}
	return c
}

// countByStatut counts the students by statut and type of decision.
func countByStatut(es []Etudiant) []StatutCount {
	out := slices.Clone(statutsOrder)
	for _, e := range es {
		i := slices.IndexFunc(out, func(c StatutCount) bool { return c.Statut == e.Statut && c.TypeDecision == e.TypeDecision })
		if i < 0 {
			// Cannot happen with the engine's answers; shown rather than hidden.
			out = append(out, StatutCount{Statut: e.Statut, TypeDecision: e.TypeDecision})
			i = len(out) - 1
		}
		out[i].Etudiants++
	}
	return out
}

func keep(es []Etudiant, keep func(e *Etudiant) bool) []Etudiant {
	out := []Etudiant{}
	for i := range es {
		if keep(&es[i]) {
			out = append(out, es[i])
		}
	}
	return out
}

// sortBySince orders es by the time their answer was first given, oldest
// first, then by identifier.
func sortBySince(es []Etudiant) []Etudiant {
	slices.SortFunc(es, func(a, b Etudiant) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.Identifiant, b.Identifiant)
	})
	return es
}

func inParis(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	p := t.In(bourse.Paris)
	return &p
}

// clip shortens what a caller typed before it is quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		s = strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}
