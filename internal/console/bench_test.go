package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/console"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// BenchmarkPages renders each page of the console for an establishment
// whose log holds 200,000 consultations of the year (20,000 students, ten
// answers each over the season). The bound is 300 ms a page.
func BenchmarkPages(b *testing.B) {
	pool := pgtestNew(b)
	now := time.Date(2025, 12, 1, 12, 0, 0, 0, bourse.Paris)
	addUser(b, pool, console.Utilisateur{Email: "gestion@univ-a.example.fr", UAI: uaiA})
	statuts := []struct{ s, td string }{{"BOURSIER", "DEFINITIVE"}, {"BOURSIER", "CONDITIONNELLE"}, {"EN_ATTENTE", ""}, {"NON_BOURSIER", ""}, {"INCONNU", ""}}
	rows := make([]row, 0, 200_000)
	for i := range 200_000 {
		student := i % 20_000
		st := statuts[(student+i/20_000/7)%len(statuts)] // some students' answer changes during the season
		r := row{uai: uaiA, identifiant: fmt.Sprintf("12345%06d", student), statut: st.s, typeDecision: st.td, canal: "REST",
			at: now.Add(-time.Duration(150-i/20_000*15)*24*time.Hour + time.Duration(student)*time.Second)}
		if student%97 == 0 {
			r.correspondance, r.identifiantAglae = "IDENTITE", fmt.Sprintf("54321%06d", student)
		}
		rows = append(rows, r)
	}
	rows = append(rows, row{uai: uaiA, identifiant: "1111037734L", statut: "BOURSIER", typeDecision: "DEFINITIVE", canal: "REST", at: now.Add(-time.Hour)})
	seed(b, pool, rows)
	if _, err := pool.Exec(b.Context(), "ANALYZE connecteur.consultation"); err != nil {
		b.Fatal(err)
	}
	c := console.New(console.Options{
		Utilisateurs: postgres.NewUtilisateurs(pool), Sessions: postgres.NewSessions(pool),
		Journal: postgres.NewConsole(pool), Suivi: postgres.NewSuivi(pool), Consultant: &consultant{},
		Now: func() time.Time { return now },
	})
	r := chi.NewRouter()
	c.Mount(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	body := func(res *http.Response, err error) string {
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		s, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", res.Request.URL, res.StatusCode)
		}
		return string(s)
	}
	page := body(client.Get(srv.URL + "/console/connexion"))
	token := csrfField.FindStringSubmatch(page)[1]
	page = body(client.PostForm(srv.URL+"/console/connexion", url.Values{"csrf": {token}, "email": {"gestion@univ-a.example.fr"}, "mot_de_passe": {password}}))
	token = csrfField.FindStringSubmatch(page)[1]
	if !strings.Contains(page, `data-compte="Total">20001<`) {
		b.Fatal("the bilan does not count 20,001 students")
	}
	post := func(path string, form url.Values) (*http.Response, error) {
		form.Set("csrf", token)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		return client.Do(req)
	}
	for _, p := range []struct {
		name string
		do   func() (*http.Response, error)
	}{
		{"bilan", func() (*http.Response, error) { return client.Get(srv.URL + "/console/") }},
		{"liste-en-attente", func() (*http.Response, error) { return client.Get(srv.URL + "/console/listes/en-attente") }},
		{"liste-inconnus-recherche-tri", func() (*http.Response, error) {
			return post("/console/listes/inconnus", url.Values{"q": {"1234500"}, "tri": {"derniere"}, "ordre": {"desc"}, "page": {"3"}})
		}},
		{"liste-numeros-differents-csv", func() (*http.Response, error) {
			return client.Get(srv.URL + "/console/listes/numeros-differents/csv?annee=2025")
		}},
		{"suivi", func() (*http.Response, error) { return post("/console/suivi", url.Values{"depuis": {"2025-11-01"}}) }},
		{"suivi-csv", func() (*http.Response, error) { return client.Get(srv.URL + "/console/suivi/csv?depuis=2025-11-01") }},
		{"etudiant", func() (*http.Response, error) { return client.Get(srv.URL + "/console/etudiants/1111037734L") }},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				body(p.do())
			}
		})
	}
}
