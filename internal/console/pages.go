package console

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// The lists of students, with their French label, in the menu's order.
var liensListes = []lienListe{
	{suivi.ListeNumerosDifferents, "NNE différents"},
	{suivi.ListeEnAttente, "En attente"},
	{suivi.ListeInconnus, "Inconnus"},
	{suivi.ListeIdentitesDifferentes, "Identités différentes"},
}

func libelleListe(nom string) (string, bool) {
	for _, l := range liensListes {
		if l.Nom == nom {
			return l.Libelle, true
		}
	}
	return "", false
}

// memo reads the establishment's students once per page: every list of
// the bilan is a filter of the same read, as in the API.
type memo struct {
	suivi.Store
	key string
	es  []suivi.Etudiant
}

func (m *memo) Etudiants(ctx context.Context, uai string, annee int) ([]suivi.Etudiant, error) {
	k := uai + "/" + strconv.Itoa(annee)
	if m.es == nil || m.key != k {
		es, err := m.Store.Etudiants(ctx, uai, annee)
		if err != nil {
			return nil, err
		}
		m.key, m.es = k, es
	}
	return slices.Clone(m.es), nil
}

// annee is the academic year of a page: the form's or query's annee, else
// the current one.
func (c *Console) annee(r *http.Request) (int, error) {
	v := r.FormValue("annee")
	if v == "" {
		return c.opts.SwitchDate.CurrentAnnee(c.now()), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || len(v) != 4 || n < bourse.AnneeMin || n > bourse.AnneeMax {
		return 0, bourse.Invalid("annee", "une année sur quatre chiffres, par exemple 2025 pour 2025–2026")
	}
	return n, nil
}

// ligneBilan is one count of the bilan.
type ligneBilan struct {
	Libelle string
	N       int
	Liste   string // the list that shows these students; "" for none
}

type bilan struct {
	UAI       string
	Annee     int
	Statuts   []ligneBilan
	Total     int
	Listes    []ligneBilan
	Graphique graphique
	Academie  string
}

func (c *Console) getBilan(w http.ResponseWriter, r *http.Request) error {
	s, _ := sessionFrom(r.Context())
	if !s.Utilisateur.Gestionnaire() {
		c.render(w, r, http.StatusOK, "crous", view{Titre: "Dossiers à réexaminer", Nav: "bilan",
			Donnees: bilan{Academie: s.Utilisateur.Academie}})
		return nil
	}
	uai := s.Utilisateur.UAI
	annee, err := c.annee(r)
	if err != nil {
		return err
	}
	b, err := c.bilan(r.Context(), uai, annee)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "bilan", view{Titre: "Bilan", Nav: "bilan", Donnees: b})
	return nil
}

// bilan computes the bilan of uai for annee with suivi's lists.
func (c *Console) bilan(ctx context.Context, uai string, annee int) (bilan, error) {
	store := &memo{Store: c.opts.Suivi}
	b := bilan{UAI: uai, Annee: annee}
	st, err := suivi.Liste(ctx, store, uai, annee, suivi.ListeStatuts)
	if err != nil {
		return b, err
	}
	for _, x := range st.Statuts {
		l := ligneBilan{Libelle: libelleStatut(x.Statut, x.TypeDecision), N: x.Etudiants}
		switch x.Statut {
		case bourse.StatutEnAttente:
			l.Liste = suivi.ListeEnAttente
		case bourse.StatutInconnu:
			l.Liste = suivi.ListeInconnus
		}
		b.Statuts = append(b.Statuts, l)
	}
	b.Total = st.Total()
	for _, l := range liensListes {
		ctl, err := suivi.Liste(ctx, store, uai, annee, l.Nom)
		if err != nil {
			return b, err
		}
		b.Listes = append(b.Listes, ligneBilan{Libelle: l.Libelle, N: ctl.Total(), Liste: l.Nom})
	}
	jours, err := c.opts.Journal.ParJour(ctx, uai, annee)
	if err != nil {
		return b, err
	}
	b.Graphique = dessiner(jours, debutSaison(c.opts.SwitchDate, annee))
	return b, nil
}

// debutSaison is the first day of the academic year annee.
func debutSaison(b bourse.SwitchDate, annee int) time.Time {
	if b.Month == 0 {
		b = bourse.DefaultSwitchDate
	}
	return time.Date(annee, b.Month, b.Day, 0, 0, 0, 0, bourse.Paris)
}

// colonne is a column of a table: its key for sorting, its header, and
// the cell of one row.
type colonne struct {
	Cle     string
	Titre   string
	valeur  func(l *ligne) string
	compare func(a, b *ligne) int
}

// ligne is one row of a table of students.
type ligne struct {
	Identifiant string
	Nom         string
	Cellules    []string
	e           *suivi.Etudiant
	ch          *suivi.Change
}

type tableau struct {
	Liste     string
	Libelle   string
	UAI       string
	Annee     int
	Depuis    string // the follow-up's date, YYYY-MM-DD
	Q         string
	Tri       string
	Ordre     string
	Page      int
	Pages     int
	Total     int
	Colonnes  []colonne
	Lignes    []ligne
	CSV       string
	Precedent int
	Suivant   int
}

func cmpTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

func fmtp(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.In(bourse.Paris).Format("02/01/2006 15:04")
}

var (
	colNom = colonne{Cle: "nom", Titre: "Nom (Aglaé)", valeur: func(l *ligne) string { return l.Nom },
		compare: func(a, b *ligne) int { return strings.Compare(a.Nom, b.Nom) }}
	colStatut = colonne{Cle: "statut", Titre: "Statut", valeur: func(l *ligne) string {
		return libelleStatut(l.e.Statut, l.e.TypeDecision)
	}, compare: func(a, b *ligne) int {
		return strings.Compare(string(a.e.Statut)+string(a.e.TypeDecision), string(b.e.Statut)+string(b.e.TypeDecision))
	}}
	colAglae = colonne{Cle: "identifiantAglae", Titre: "Numéro dans Aglaé", valeur: func(l *ligne) string { return l.e.IdentifiantAglae },
		compare: func(a, b *ligne) int { return strings.Compare(a.e.IdentifiantAglae, b.e.IdentifiantAglae) }}
	colDepuis = colonne{Cle: "depuis", Titre: "Réponse donnée depuis", valeur: func(l *ligne) string { return fmtp(&l.e.Since) },
		compare: func(a, b *ligne) int { return a.e.Since.Compare(b.e.Since) }}
	colConsultations = colonne{Cle: "consultations", Titre: "Consultations", valeur: func(l *ligne) string { return strconv.Itoa(l.e.Consultations) },
		compare: func(a, b *ligne) int { return a.e.Consultations - b.e.Consultations }}
	colPremiere = colonne{Cle: "premiere", Titre: "Première consultation", valeur: func(l *ligne) string { return fmtp(l.e.FirstConsultation) },
		compare: func(a, b *ligne) int { return cmpTime(a.e.FirstConsultation, b.e.FirstConsultation) }}
	colDerniere = colonne{Cle: "derniere", Titre: "Dernière consultation", valeur: func(l *ligne) string { return fmtp(l.e.LastConsultation) },
		compare: func(a, b *ligne) int { return cmpTime(a.e.LastConsultation, b.e.LastConsultation) }}
)

// colonnesListes are the columns of each list after the identifier and
// the name, those of the API's CSV.
var colonnesListes = map[string][]colonne{
	suivi.ListeNumerosDifferents:    {colNom, colAglae, colStatut, colDepuis, colDerniere},
	suivi.ListeEnAttente:            {colNom, colDepuis, colConsultations, colPremiere, colDerniere},
	suivi.ListeInconnus:             {colNom, colConsultations, colPremiere, colDerniere},
	suivi.ListeIdentitesDifferentes: {colNom, colDepuis, colConsultations, colPremiere, colDerniere},
}

var colIdentifiant = colonne{Cle: "identifiant", Titre: "Identifiant", compare: func(a, b *ligne) int {
	return strings.Compare(a.Identifiant, b.Identifiant)
}}

// params are a table's search, sort and page, from the POSTed form (or
// the defaults of a GET).
func (c *Console) params(r *http.Request, t *tableau, cols []colonne) {
	t.Q = strings.TrimSpace(r.PostFormValue("q"))
	if len(t.Q) > 100 {
		t.Q = t.Q[:100]
	}
	t.Tri, t.Ordre = r.PostFormValue("tri"), r.PostFormValue("ordre")
	if !slices.ContainsFunc(cols, func(c colonne) bool { return c.Cle == t.Tri }) {
		t.Tri = ""
	}
	if t.Ordre != "desc" {
		t.Ordre = "asc"
	}
	t.Page, _ = strconv.Atoi(r.PostFormValue("page"))
	t.Colonnes = cols
}

// finir filters, sorts and paginates t.Lignes.
func (c *Console) finir(t *tableau) {
	if t.Q != "" {
		q := strings.ToUpper(ident.Normalize(t.Q))
		qn := bourse.NormalizeNom(t.Q)
		t.Lignes = slices.DeleteFunc(t.Lignes, func(l ligne) bool {
			if strings.Contains(strings.ToUpper(l.Identifiant), q) {
				return false
			}
			if l.e != nil && l.e.IdentifiantAglae != "" && strings.Contains(l.e.IdentifiantAglae, q) {
				return false
			}
			return qn == "" || !strings.Contains(bourse.NormalizeNom(l.Nom), qn)
		})
	}
	if i := slices.IndexFunc(t.Colonnes, func(c colonne) bool { return c.Cle == t.Tri }); i >= 0 {
		cmp := t.Colonnes[i].compare
		slices.SortStableFunc(t.Lignes, func(a, b ligne) int {
			if t.Ordre == "desc" {
				return cmp(&b, &a)
			}
			return cmp(&a, &b)
		})
	}
	t.Total = len(t.Lignes)
	size := c.opts.PageSize
	t.Pages = max(1, (t.Total+size-1)/size)
	t.Page = min(max(t.Page, 1), t.Pages)
	from := (t.Page - 1) * size
	t.Lignes = t.Lignes[from:min(from+size, t.Total)]
	for i := range t.Lignes {
		l := &t.Lignes[i]
		for _, col := range t.Colonnes[1:] {
			l.Cellules = append(l.Cellules, col.valeur(l))
		}
	}
	if t.Page > 1 {
		t.Precedent = t.Page - 1
	}
	if t.Page < t.Pages {
		t.Suivant = t.Page + 1
	}
}

func (c *Console) liste(w http.ResponseWriter, r *http.Request) error {
	s, _ := sessionFrom(r.Context())
	nom := chi.URLParam(r, "liste")
	libelle, ok := libelleListe(nom)
	if !ok {
		return web.Errorf(web.NotFound, "Cette liste n'existe pas.")
	}
	annee, err := c.annee(r)
	if err != nil {
		return err
	}
	ctl, err := suivi.Liste(r.Context(), c.opts.Suivi, s.Utilisateur.UAI, annee, nom)
	if err != nil {
		return err
	}
	t := tableau{Liste: nom, Libelle: libelle, UAI: ctl.UAI, Annee: annee,
		CSV: Path + "/listes/" + nom + "/csv?annee=" + strconv.Itoa(annee)}
	cols := append([]colonne{colIdentifiant}, colonnesListes[nom]...)
	c.params(r, &t, cols)
	noms, err := c.noms(r.Context(), ctl.Etudiants, nil)
	if err != nil {
		return err
	}
	t.Lignes = make([]ligne, len(ctl.Etudiants))
	for i := range ctl.Etudiants {
		e := &ctl.Etudiants[i]
		t.Lignes[i] = ligne{Identifiant: e.Identifiant, Nom: noms[e.Identifiant], e: e}
	}
	c.finir(&t)
	c.render(w, r, http.StatusOK, "liste", view{Titre: libelle, Nav: nom, Donnees: t, Recherche: t.Q != ""})
	return nil
}

// noms are the names Aglaé knows of the students' identifiers.
func (c *Console) noms(ctx context.Context, es []suivi.Etudiant, cs []suivi.Change) (map[string]string, error) {
	ids := make([]string, 0, len(es)+len(cs))
	for _, e := range es {
		ids = append(ids, e.Identifiant)
	}
	for _, ch := range cs {
		ids = append(ids, ch.Identifiant)
	}
	if len(ids) == 0 {
		return map[string]string{}, nil
	}
	return c.opts.Journal.Noms(ctx, ids)
}

// csv writes body as the API's CSV download named fichier.
func csv(w http.ResponseWriter, fichier string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="`+fichier+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (c *Console) listeCSV(w http.ResponseWriter, r *http.Request) error {
	s, _ := sessionFrom(r.Context())
	nom := chi.URLParam(r, "liste")
	if _, ok := libelleListe(nom); !ok && nom != suivi.ListeStatuts {
		return web.Errorf(web.NotFound, "Cette liste n'existe pas.")
	}
	annee, err := c.annee(r)
	if err != nil {
		return err
	}
	ctl, err := suivi.Liste(r.Context(), c.opts.Suivi, s.Utilisateur.UAI, annee, nom)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := suivi.WriteListe(&buf, suivi.FormatCSV, ctl); err != nil {
		return err
	}
	csv(w, nom+"-"+ctl.UAI+"-"+strconv.Itoa(annee)+".csv", buf.Bytes())
	return nil
}

// depuis is the follow-up's date (midnight, Paris time): the form's or
// query's, else the season's first day.
func (c *Console) depuis(r *http.Request) (time.Time, error) {
	v := r.FormValue("depuis")
	if v == "" {
		return debutSaison(c.opts.SwitchDate, c.opts.SwitchDate.CurrentAnnee(c.now())), nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, bourse.Paris)
	if err != nil {
		return time.Time{}, bourse.Invalid("depuis", "une date AAAA-MM-JJ")
	}
	return d, nil
}

func (c *Console) suivi(w http.ResponseWriter, r *http.Request) error {
	s, _ := sessionFrom(r.Context())
	depuis, err := c.depuis(r)
	if err != nil {
		return err
	}
	cs, err := suivi.Suivi(r.Context(), c.opts.Suivi, s.Utilisateur.UAI, depuis)
	if err != nil {
		return err
	}
	d := depuis.Format(time.DateOnly)
	t := tableau{Liste: "suivi", Libelle: "Suivi des changements", UAI: s.Utilisateur.UAI, Depuis: d,
		CSV: Path + "/suivi/csv?depuis=" + d}
	cols := []colonne{colIdentifiant, colNom,
		{Cle: "annee", Titre: "Année", valeur: func(l *ligne) string { return strconv.Itoa(l.ch.AnneeUniversitaire) },
			compare: func(a, b *ligne) int { return a.ch.AnneeUniversitaire - b.ch.AnneeUniversitaire }},
		{Cle: "vuLe", Titre: "Changé le", valeur: func(l *ligne) string { return fmtp(&l.ch.SeenAt) },
			compare: func(a, b *ligne) int { return a.ch.SeenAt.Compare(b.ch.SeenAt) }},
		{Cle: "vuPar", Titre: "Vu par", valeur: func(l *ligne) string { return string(l.ch.SeenBy) },
			compare: func(a, b *ligne) int { return strings.Compare(string(a.ch.SeenBy), string(b.ch.SeenBy)) }},
		{Cle: "avant", Titre: "Avant", valeur: func(l *ligne) string { return libelleReponse(l.ch.Before) },
			compare: func(a, b *ligne) int { return strings.Compare(libelleReponse(a.ch.Before), libelleReponse(b.ch.Before)) }},
		{Cle: "apres", Titre: "Après", valeur: func(l *ligne) string { return libelleReponse(l.ch.After) },
			compare: func(a, b *ligne) int { return strings.Compare(libelleReponse(a.ch.After), libelleReponse(b.ch.After)) }},
	}
	c.params(r, &t, cols)
	noms, err := c.noms(r.Context(), nil, cs)
	if err != nil {
		return err
	}
	t.Lignes = make([]ligne, len(cs))
	for i := range cs {
		t.Lignes[i] = ligne{Identifiant: cs[i].Identifiant, Nom: noms[cs[i].Identifiant], ch: &cs[i]}
	}
	c.finir(&t)
	c.render(w, r, http.StatusOK, "liste", view{Titre: t.Libelle, Nav: "suivi", Donnees: t, Recherche: t.Q != ""})
	return nil
}

// libelleReponse is an answer in a few French words.
func libelleReponse(r suivi.Reponse) string {
	s := libelleStatut(r.Statut, r.TypeDecision)
	if r.Echelon != "" {
		s += ", échelon " + r.Echelon
	}
	if r.Anomalie == bourse.AnomalieIdentiteDifferente {
		s += ", identité différente"
	}
	if r.Correspondance == bourse.ByIdentity {
		s += ", trouvé par l'identité (" + r.IdentifiantAglae + ")"
	}
	return s
}

func (c *Console) suiviCSV(w http.ResponseWriter, r *http.Request) error {
	s, _ := sessionFrom(r.Context())
	depuis, err := c.depuis(r)
	if err != nil {
		return err
	}
	cs, err := suivi.Suivi(r.Context(), c.opts.Suivi, s.Utilisateur.UAI, depuis)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := suivi.WriteSuivi(&buf, suivi.FormatCSV, s.Utilisateur.UAI, depuis, cs); err != nil {
		return err
	}
	csv(w, "suivi-"+s.Utilisateur.UAI+".csv", buf.Bytes())
	return nil
}

type etudiant struct {
	Identifiant string
	Nom         string
	Reponses    []Reponse
	Annee       int
	Verifiee    *bourse.Reponse
}

// identifiant reads the path's identifier, masked in the access log.
func identifiant(r *http.Request) (string, error) {
	v := chi.URLParam(r, "identifiant")
	id, err := ident.ParseIdentifiant(v)
	if err != nil {
		web.Annotate(r.Context()).Identifiant = web.Mask(ident.Normalize(v))
		return "", bourse.Invalid("identifiant", "ce n'est pas un identifiant d'étudiant (INE ou numéro de dossier)")
	}
	web.Annotate(r.Context()).Identifiant = web.Mask(id.INE.Value)
	return id.INE.Value, nil
}

// etudiant reads the page of a student of the session's establishment:
// one it never asked about is not theirs (403).
func (c *Console) etudiant(r *http.Request) (etudiant, error) {
	s, _ := sessionFrom(r.Context())
	id, err := identifiant(r)
	if err != nil {
		return etudiant{}, err
	}
	rs, err := c.opts.Journal.Historique(r.Context(), s.Utilisateur.UAI, id)
	if err != nil {
		return etudiant{}, err
	}
	if len(rs) == 0 {
		return etudiant{}, forbidden("Votre établissement n'a jamais consulté cet étudiant : sa page n'est pas la vôtre.")
	}
	noms, err := c.opts.Journal.Noms(r.Context(), []string{id})
	if err != nil {
		return etudiant{}, err
	}
	return etudiant{Identifiant: id, Nom: noms[id], Reponses: rs, Annee: rs[0].AnneeUniversitaire}, nil
}

func (c *Console) getEtudiant(w http.ResponseWriter, r *http.Request) error {
	e, err := c.etudiant(r)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "etudiant", view{Titre: "Étudiant " + e.Identifiant, Donnees: e})
	return nil
}

// postVerifier replays the lookup of the student through the domain
// service, recorded as a consultation of canal CONSOLE.
func (c *Console) postVerifier(w http.ResponseWriter, r *http.Request) error {
	s, _ := sessionFrom(r.Context())
	e, err := c.etudiant(r)
	if err != nil {
		return err
	}
	annee, err := c.annee(r)
	if err != nil {
		return err
	}
	ctx := bourse.WithAppelant(r.Context(), bourse.Appelant{ClientID: "console", Nom: s.Utilisateur.Email,
		UAI: bourse.UAI(s.Utilisateur.UAI), Canal: bourse.CanalConsole})
	rep, err := c.opts.Consultant.Consult(ctx, bourse.Saisie{Identifiant: e.Identifiant, CodeEtablissement: s.Utilisateur.UAI, Annee: annee})
	if err != nil {
		return err
	}
	web.Annotate(r.Context()).Statut = string(rep.Statut)
	e.Verifiee = &rep
	e.Annee = annee
	c.render(w, r, http.StatusOK, "etudiant", view{Titre: "Étudiant " + e.Identifiant, Donnees: e})
	return nil
}
