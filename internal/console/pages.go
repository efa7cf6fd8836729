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
var listeLinks = []listeLink{
	{suivi.ListeNumerosDifferents, "NNE différents"},
	{suivi.ListeEnAttente, "En attente"},
	{suivi.ListeInconnus, "Inconnus"},
	{suivi.ListeIdentitesDifferentes, "Identités différentes"},
}

func listeLabel(nom string) (string, bool) {
	for _, l := range listeLinks {
		if l.Nom == nom {
			return l.Label, true
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

// bilanRow is one count of the bilan.
type bilanRow struct {
	Label string
	N     int
	Liste string // the list that shows these students; "" for none
}

type bilan struct {
	UAI      string
	Annee    int
	Statuts  []bilanRow
	Total    int
	Listes   []bilanRow
	Chart    chart
	Academie string
}

func (c *Console) getBilan(w http.ResponseWriter, r *http.Request) error {
	s, _ := sessionFrom(r.Context())
	if !s.Utilisateur.Gestionnaire() {
		c.render(w, r, http.StatusOK, "crous", view{Title: "Dossiers à réexaminer", Nav: "bilan",
			Data: bilan{Academie: s.Utilisateur.Academie}})
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
	c.render(w, r, http.StatusOK, "bilan", view{Title: "Bilan", Nav: "bilan", Data: b})
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
		l := bilanRow{Label: statutLabel(x.Statut, x.TypeDecision), N: x.Etudiants}
		switch x.Statut {
		case bourse.StatutEnAttente:
			l.Liste = suivi.ListeEnAttente
		case bourse.StatutInconnu:
			l.Liste = suivi.ListeInconnus
		}
		b.Statuts = append(b.Statuts, l)
	}
	b.Total = st.Total()
	for _, l := range listeLinks {
		ctl, err := suivi.Liste(ctx, store, uai, annee, l.Nom)
		if err != nil {
			return b, err
		}
		b.Listes = append(b.Listes, bilanRow{Label: l.Label, N: ctl.Total(), Liste: l.Nom})
	}
	days, err := c.opts.Journal.PerDay(ctx, uai, annee)
	if err != nil {
		return b, err
	}
	b.Chart = drawChart(days, seasonStart(c.opts.SwitchDate, annee))
	return b, nil
}

// seasonStart is the first day of the academic year annee.
func seasonStart(b bourse.SwitchDate, annee int) time.Time {
	if b.Month == 0 {
		b = bourse.DefaultSwitchDate
	}
	return time.Date(annee, b.Month, b.Day, 0, 0, 0, 0, bourse.Paris)
}

// column is a column of a table: its key for sorting, its header, and
// the cell of one row.
type column struct {
	Key     string
	Title   string
	value   func(l *row) string
	compare func(a, b *row) int
}

// row is one row of a table of students.
type row struct {
	Identifiant string
	Nom         string
	Cells       []string
	e           *suivi.Etudiant
	ch          *suivi.Change
}

type table struct {
	Liste    string
	Label    string
	UAI      string
	Annee    int
	Since    string // the follow-up's date, YYYY-MM-DD
	Q        string
	Sort     string
	Order    string
	Page     int
	Pages    int
	Total    int
	Columns  []column
	Rows     []row
	CSV      string
	Previous int
	Next     int
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
	colNom = column{Key: "nom", Title: "Nom (Aglaé)", value: func(l *row) string { return l.Nom },
		compare: func(a, b *row) int { return strings.Compare(a.Nom, b.Nom) }}
	colStatut = column{Key: "statut", Title: "Statut", value: func(l *row) string {
		return statutLabel(l.e.Statut, l.e.TypeDecision)
	}, compare: func(a, b *row) int {
		return strings.Compare(string(a.e.Statut)+string(a.e.TypeDecision), string(b.e.Statut)+string(b.e.TypeDecision))
	}}
	colAglae = column{Key: "identifiantAglae", Title: "Numéro dans Aglaé", value: func(l *row) string { return l.e.IdentifiantAglae },
		compare: func(a, b *row) int { return strings.Compare(a.e.IdentifiantAglae, b.e.IdentifiantAglae) }}
	colSince = column{Key: "depuis", Title: "Réponse donnée depuis", value: func(l *row) string { return fmtp(&l.e.Since) },
		compare: func(a, b *row) int { return a.e.Since.Compare(b.e.Since) }}
	colConsultations = column{Key: "consultations", Title: "Consultations", value: func(l *row) string { return strconv.Itoa(l.e.Consultations) },
		compare: func(a, b *row) int { return a.e.Consultations - b.e.Consultations }}
	colFirst = column{Key: "premiere", Title: "Première consultation", value: func(l *row) string { return fmtp(l.e.FirstConsultation) },
		compare: func(a, b *row) int { return cmpTime(a.e.FirstConsultation, b.e.FirstConsultation) }}
	colLast = column{Key: "derniere", Title: "Dernière consultation", value: func(l *row) string { return fmtp(l.e.LastConsultation) },
		compare: func(a, b *row) int { return cmpTime(a.e.LastConsultation, b.e.LastConsultation) }}
)

// listeColumns are the columns of each list after the identifier and
// the name, those of the API's CSV.
var listeColumns = map[string][]column{
	suivi.ListeNumerosDifferents:    {colNom, colAglae, colStatut, colSince, colLast},
	suivi.ListeEnAttente:            {colNom, colSince, colConsultations, colFirst, colLast},
	suivi.ListeInconnus:             {colNom, colConsultations, colFirst, colLast},
	suivi.ListeIdentitesDifferentes: {colNom, colSince, colConsultations, colFirst, colLast},
}

var colIdentifiant = column{Key: "identifiant", Title: "Identifiant", compare: func(a, b *row) int {
	return strings.Compare(a.Identifiant, b.Identifiant)
}}

// params are a table's search, sort and page, from the POSTed form (or
// the defaults of a GET).
func (c *Console) params(r *http.Request, t *table, cols []column) {
	t.Q = strings.TrimSpace(r.PostFormValue("q"))
	if len(t.Q) > 100 {
		t.Q = t.Q[:100]
	}
	t.Sort, t.Order = r.PostFormValue("tri"), r.PostFormValue("ordre")
	if !slices.ContainsFunc(cols, func(c column) bool { return c.Key == t.Sort }) {
		t.Sort = ""
	}
	if t.Order != "desc" {
		t.Order = "asc"
	}
	t.Page, _ = strconv.Atoi(r.PostFormValue("page"))
	t.Columns = cols
}

// finish filters, sorts and paginates t.Rows.
func (c *Console) finish(t *table) {
	if t.Q != "" {
		q := strings.ToUpper(ident.Normalize(t.Q))
		qn := bourse.NormalizeNom(t.Q)
		t.Rows = slices.DeleteFunc(t.Rows, func(l row) bool {
			if strings.Contains(strings.ToUpper(l.Identifiant), q) {
				return false
			}
			if l.e != nil && l.e.IdentifiantAglae != "" && strings.Contains(l.e.IdentifiantAglae, q) {
				return false
			}
			return qn == "" || !strings.Contains(bourse.NormalizeNom(l.Nom), qn)
		})
	}
	if i := slices.IndexFunc(t.Columns, func(c column) bool { return c.Key == t.Sort }); i >= 0 {
		cmp := t.Columns[i].compare
		slices.SortStableFunc(t.Rows, func(a, b row) int {
			if t.Order == "desc" {
				return cmp(&b, &a)
			}
			return cmp(&a, &b)
		})
	}
	t.Total = len(t.Rows)
	size := c.opts.PageSize
	t.Pages = max(1, (t.Total+size-1)/size)
	t.Page = min(max(t.Page, 1), t.Pages)
	from := (t.Page - 1) * size
	t.Rows = t.Rows[from:min(from+size, t.Total)]
	for i := range t.Rows {
		l := &t.Rows[i]
		for _, col := range t.Columns[1:] {
			l.Cells = append(l.Cells, col.value(l))
		}
	}
	if t.Page > 1 {
		t.Previous = t.Page - 1
	}
	if t.Page < t.Pages {
		t.Next = t.Page + 1
	}
}

// controle reads the control list nom of the session's establishment, for
// the year r asks for.
func (c *Console) controle(r *http.Request, nom string) (ctl suivi.Controle, annee int, err error) {
	s, _ := sessionFrom(r.Context())
	if annee, err = c.annee(r); err != nil {
		return suivi.Controle{}, 0, err
	}
	ctl, err = suivi.Liste(r.Context(), c.opts.Suivi, s.Utilisateur.UAI, annee, nom)
	return ctl, annee, err
}

func (c *Console) liste(w http.ResponseWriter, r *http.Request) error {
	nom := chi.URLParam(r, "liste")
	label, ok := listeLabel(nom)
	if !ok {
		return web.Errorf(web.NotFound, "Cette liste n'existe pas.")
	}
	ctl, annee, err := c.controle(r, nom)
	if err != nil {
		return err
	}
	t := table{Liste: nom, Label: label, UAI: ctl.UAI, Annee: annee,
		CSV: Path + "/listes/" + nom + "/csv?annee=" + strconv.Itoa(annee)}
	cols := append([]column{colIdentifiant}, listeColumns[nom]...)
	c.params(r, &t, cols)
	noms, err := c.noms(r.Context(), ctl.Etudiants, nil)
	if err != nil {
		return err
	}
	t.Rows = make([]row, len(ctl.Etudiants))
	for i := range ctl.Etudiants {
		e := &ctl.Etudiants[i]
		t.Rows[i] = row{Identifiant: e.Identifiant, Nom: noms[e.Identifiant], e: e}
	}
	c.finish(&t)
	c.render(w, r, http.StatusOK, "liste", view{Title: label, Nav: nom, Data: t, Search: t.Q != ""})
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

// csv writes body as the API's CSV download named file.
func csv(w http.ResponseWriter, file string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (c *Console) listeCSV(w http.ResponseWriter, r *http.Request) error {
	nom := chi.URLParam(r, "liste")
	if _, ok := listeLabel(nom); !ok && nom != suivi.ListeStatuts {
		return web.Errorf(web.NotFound, "Cette liste n'existe pas.")
	}
	ctl, annee, err := c.controle(r, nom)
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
func (c *Console) since(r *http.Request) (time.Time, error) {
	v := r.FormValue("depuis")
	if v == "" {
		return seasonStart(c.opts.SwitchDate, c.opts.SwitchDate.CurrentAnnee(c.now())), nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, bourse.Paris)
	if err != nil {
		return time.Time{}, bourse.Invalid("depuis", "une date AAAA-MM-JJ")
	}
	return d, nil
}

// changes reads the follow-up of the session's establishment since the
// date r asks for.
func (c *Console) changes(r *http.Request) (uai string, since time.Time, cs []suivi.Change, err error) {
	s, _ := sessionFrom(r.Context())
	uai = s.Utilisateur.UAI
	if since, err = c.since(r); err != nil {
		return "", time.Time{}, nil, err
	}
	cs, err = suivi.Suivi(r.Context(), c.opts.Suivi, uai, since)
	return uai, since, cs, err
}

func (c *Console) suivi(w http.ResponseWriter, r *http.Request) error {
	uai, since, cs, err := c.changes(r)
	if err != nil {
		return err
	}
	d := since.Format(time.DateOnly)
	t := table{Liste: "suivi", Label: "Suivi des changements", UAI: uai, Since: d,
		CSV: Path + "/suivi/csv?depuis=" + d}
	cols := []column{colIdentifiant, colNom,
		{Key: "annee", Title: "Année", value: func(l *row) string { return strconv.Itoa(l.ch.AnneeUniversitaire) },
			compare: func(a, b *row) int { return a.ch.AnneeUniversitaire - b.ch.AnneeUniversitaire }},
		{Key: "vuLe", Title: "Changé le", value: func(l *row) string { return fmtp(&l.ch.SeenAt) },
			compare: func(a, b *row) int { return a.ch.SeenAt.Compare(b.ch.SeenAt) }},
		{Key: "vuPar", Title: "Vu par", value: func(l *row) string { return string(l.ch.SeenBy) },
			compare: func(a, b *row) int { return strings.Compare(string(a.ch.SeenBy), string(b.ch.SeenBy)) }},
		{Key: "avant", Title: "Avant", value: func(l *row) string { return reponseLabel(l.ch.Before) },
			compare: func(a, b *row) int { return strings.Compare(reponseLabel(a.ch.Before), reponseLabel(b.ch.Before)) }},
		{Key: "apres", Title: "Après", value: func(l *row) string { return reponseLabel(l.ch.After) },
			compare: func(a, b *row) int { return strings.Compare(reponseLabel(a.ch.After), reponseLabel(b.ch.After)) }},
	}
	c.params(r, &t, cols)
	noms, err := c.noms(r.Context(), nil, cs)
	if err != nil {
		return err
	}
	t.Rows = make([]row, len(cs))
	for i := range cs {
		t.Rows[i] = row{Identifiant: cs[i].Identifiant, Nom: noms[cs[i].Identifiant], ch: &cs[i]}
	}
	c.finish(&t)
	c.render(w, r, http.StatusOK, "liste", view{Title: t.Label, Nav: "suivi", Data: t, Search: t.Q != ""})
	return nil
}

// reponseLabel is an answer in a few French words.
func reponseLabel(r suivi.Reponse) string {
	s := statutLabel(r.Statut, r.TypeDecision)
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
	uai, since, cs, err := c.changes(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := suivi.WriteSuivi(&buf, suivi.FormatCSV, uai, since, cs); err != nil {
		return err
	}
	csv(w, "suivi-"+uai+".csv", buf.Bytes())
	return nil
}

type etudiant struct {
	Identifiant string
	Nom         string
	Reponses    []Reponse
	Annee       int
	Verified    *bourse.Reponse
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
	rs, err := c.opts.Journal.History(r.Context(), s.Utilisateur.UAI, id)
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
	c.render(w, r, http.StatusOK, "etudiant", view{Title: "Étudiant " + e.Identifiant, Data: e})
	return nil
}

// postCheckNow replays the lookup of the student through the domain
// service, recorded as a consultation of canal CONSOLE.
func (c *Console) postCheckNow(w http.ResponseWriter, r *http.Request) error {
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
	e.Verified = &rep
	e.Annee = annee
	c.render(w, r, http.StatusOK, "etudiant", view{Title: "Étudiant " + e.Identifiant, Data: e})
	return nil
}
