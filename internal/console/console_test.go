package console_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/console"
)

func TestSignInSessionAndSignOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)

	// Not signed in: back to the sign-in page.
	res, _ := b.get("/console/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/console/connexion", res.Header.Get("Location"))

	_, body := b.get("/console/connexion")
	token := csrf(t, body)
	// A wrong password and an unknown e-mail get the same answer.
	resW, bodyW := b.post("/console/connexion", url.Values{"csrf": {token}, "email": {"gestion@univ-a.example.fr"}, "mot_de_passe": {"mauvais"}})
	_, body = b.get("/console/connexion")
	token = csrf(t, body)
	resU, bodyU := b.post("/console/connexion", url.Values{"csrf": {token}, "email": {"personne@univ-a.example.fr"}, "mot_de_passe": {"mauvais"}})
	assert.Equal(t, http.StatusUnauthorized, resW.StatusCode)
	assert.Equal(t, http.StatusUnauthorized, resU.StatusCode)
	assert.Contains(t, bodyW, "Adresse e-mail ou mot de passe incorrect.")
	assert.Contains(t, bodyU, "Adresse e-mail ou mot de passe incorrect.")
	assert.Empty(t, b.c.Jar.Cookies(mustURL(t, f.srv.URL+"/console/")), "no session cookie after a failed sign-in")

	_, body = b.get("/console/connexion")
	res, _ = b.post("/console/connexion", url.Values{"csrf": {csrf(t, body)}, "email": {"Gestion@Univ-A.example.fr "}, "mot_de_passe": {password}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "console_session" {
			session = c
		}
	}
	require.NotNil(t, session)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
	assert.False(t, session.Secure, "plain HTTP: no Secure flag")
	assert.Equal(t, "/console", session.Path)

	// The database keeps the token's SHA-256, never the token.
	sum := sha256.Sum256([]byte(session.Value))
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT count(*) FROM connecteur.session WHERE empreinte = $1`, sum[:]).Scan(&n))
	assert.Equal(t, 1, n)
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT count(*) FROM connecteur.session WHERE empreinte = $1 OR jeton_csrf = $2`, []byte(session.Value), session.Value).Scan(&n))
	assert.Zero(t, n)

	res, body = b.get("/console/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Bilan 2025–2026")
	assert.Contains(t, body, `data-compte="Boursier (définitif)">1<`)
	assert.Contains(t, body, `data-compte="Total">3<`)
	assert.Contains(t, body, `data-liste="inconnus">1<`)
	assert.Contains(t, body, "<svg")
	// Security headers.
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
	assert.NotContains(t, res.Header.Get("Content-Security-Policy"), "unsafe-inline")
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.NotContains(t, body, "style=")
	assert.NotContains(t, body, "<script>")

	// Sign-out needs the CSRF token, then ends the session server-side.
	res, _ = b.post("/console/deconnexion", url.Values{})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = b.post("/console/deconnexion", url.Values{"csrf": {csrf(t, body)}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT count(*) FROM connecteur.session`).Scan(&n))
	assert.Zero(t, n)
	// The old cookie, replayed, is refused.
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/console/", nil)
	req.AddCookie(&http.Cookie{Name: "console_session", Value: session.Value})
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("gestion@univ-a.example.fr")
	f.clock.add(59 * time.Minute)
	res, _ := b.get("/console/")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	f.clock.add(2 * time.Minute)
	res, _ = b.get("/console/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/console/connexion", res.Header.Get("Location"))
}

func TestDisabledAccountLosesItsSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("gestion@univ-a.example.fr")
	require.NoError(t, postgresUsers(f).Disable(context.Background(), "gestion@univ-a.example.fr"))
	res, _ := b.get("/console/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body := b.get("/console/connexion")
	res, body = b.post("/console/connexion", url.Values{"csrf": {csrf(t, body)}, "email": {"gestion@univ-a.example.fr"}, "mot_de_passe": {password}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, body, "Adresse e-mail ou mot de passe incorrect.")
}

func TestFormsWithoutCSRFTokenAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	// The sign-in form, without its token or with another.
	b.get("/console/connexion")
	res, _ := b.post("/console/connexion", url.Values{"email": {"gestion@univ-a.example.fr"}, "mot_de_passe": {password}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = b.post("/console/connexion", url.Values{"csrf": {"autre"}, "email": {"gestion@univ-a.example.fr"}, "mot_de_passe": {password}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	token := b.signIn("gestion@univ-a.example.fr")
	for _, p := range []string{"/console/listes/inconnus", "/console/suivi", "/console/etudiants/1111037734L/verifier"} {
		res, body := b.post(p, url.Values{"q": {"1111"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode, p)
		assert.Contains(t, body, "Formulaire refusé", p)
		res, _ = b.post(p, url.Values{"q": {"1111"}, "csrf": {token + "x"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode, p)
		res, _ = b.post(p, url.Values{"q": {"1111"}, "csrf": {token}})
		assert.Equal(t, http.StatusOK, res.StatusCode, p)
	}
	assert.Len(t, f.svc.calls, 1, "only the POST with its token replayed the lookup")

	// A cross-origin POST is refused even with the token.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/console/suivi", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := b.c.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}

func TestGestionnaireSeesOnlyTheirEstablishment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	token := b.signIn("gestion@univ-a.example.fr")

	res, body := b.get("/console/etudiants/1111037734L")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Boursier (définitif)")
	// A student of establishment B only.
	res, body = b.get("/console/etudiants/2000000044S")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, body, "Accès refusé")
	res, _ = b.post("/console/etudiants/2000000044S/verifier", url.Values{"csrf": {token}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Empty(t, f.svc.calls)
	res, _ = b.get("/console/etudiants/pas-un-ine")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	// B's list holds none of A's students.
	_, body = b.get("/console/listes/inconnus")
	assert.Contains(t, body, "2000000166Z")
	bb := f.browser(t)
	bb.signIn("gestion@univ-b.example.fr")
	_, body = bb.get("/console/listes/inconnus")
	assert.NotContains(t, body, "2000000166Z")
}

func TestCrousUserSeesNoRegistrationsYet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	b.signIn("crous@crous-versailles.example.fr")
	res, body := b.get("/console/")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Pas encore d'inscriptions")
	for _, p := range []string{"/console/listes/inconnus", "/console/suivi", "/console/etudiants/1111037734L", "/console/listes/inconnus/csv"} {
		res, _ := b.get(p)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, p)
	}
}

func TestCheckNowReplaysTheLookupAsConsole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	token := b.signIn("gestion@univ-a.example.fr")
	res, body := b.post("/console/etudiants/1111037735M/verifier", url.Values{"csrf": {token}, "annee": {"2025"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `data-statut="BOURSIER"`)
	require.Len(t, f.svc.calls, 1)
	assert.Equal(t, bourse.CanalConsole, f.svc.calls[0].Canal)
	assert.Equal(t, bourse.UAI(uaiA), f.svc.calls[0].UAI)
	assert.Equal(t, bourse.Saisie{Identifiant: "1111037735M", CodeEtablissement: uaiA, Annee: 2025}, f.svc.in[0])
}

func TestSearchSortPageAndCSV(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var rows []row
	for i := range 120 {
		rows = append(rows, row{uai: uaiA, identifiant: fmt.Sprintf("99999999%03d", i), statut: "EN_ATTENTE", canal: "REST",
			at: f.clock.t.Add(-time.Duration(200-i) * time.Hour)})
	}
	seed(t, f.pool, rows)
	b := f.browser(t)
	token := b.signIn("gestion@univ-a.example.fr")

	_, body := b.get("/console/listes/en-attente")
	assert.Contains(t, body, "121 étudiants")
	assert.Contains(t, body, "page 1 sur 3")
	_, body = b.post("/console/listes/en-attente", url.Values{"csrf": {token}, "q": {"99999999011"}})
	assert.Contains(t, body, "1 étudiant correspondant")
	assert.Contains(t, body, "99999999011")
	_, body = b.post("/console/listes/en-attente", url.Values{"csrf": {token}, "tri": {"identifiant"}, "ordre": {"desc"}, "page": {"3"}})
	assert.Contains(t, body, "page 3 sur 3")
	assert.Contains(t, body, ">1111037735M<", "the smallest identifier is on the last page in descending order")
	assert.Contains(t, body, `aria-sort="descending"`)

	res, csvBody := b.get("/console/listes/en-attente/csv?annee=2025")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/csv; charset=utf-8; header=present", res.Header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename="en-attente-0781944P-2025.csv"`, res.Header.Get("Content-Disposition"))
	assert.True(t, strings.HasPrefix(csvBody, "identifiant,depuis,consultations,premiereConsultation,derniereConsultation\n"))
	assert.Equal(t, 122, strings.Count(csvBody, "\n"))

	res, _ = b.get("/console/listes/pas-une-liste")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = b.get("/console/listes/inconnus?annee=99")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	res, _ = b.get("/console/suivi/csv?depuis=hier")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func TestSignInIsRateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	for i := range 5 {
		_, body := b.get("/console/connexion")
		res, _ := b.post("/console/connexion", url.Values{"csrf": {csrf(t, body)}, "email": {"gestion@univ-a.example.fr"}, "mot_de_passe": {"mauvais"}})
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "attempt %d", i+1)
	}
	_, body := b.get("/console/connexion")
	res, body := b.post("/console/connexion", url.Values{"csrf": {csrf(t, body)}, "email": {"gestion@univ-a.example.fr"}, "mot_de_passe": {password}})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "even the right password waits")
	assert.Contains(t, body, "Trop de tentatives")
	// Another account from the same address still signs in.
	b2 := f.browser(t)
	b2.signIn("gestion@univ-b.example.fr")
	// A minute later, one more attempt.
	f.clock.add(time.Minute)
	b.signIn("gestion@univ-a.example.fr")
}

// TestMain lowers the cost of the test accounts' hashes: each test signs
// several in, and argon2id at its production cost takes a second under the
// race detector. TestPasswordHash checks the production cost.
func TestMain(m *testing.M) {
	console.LowerHashCost()
	os.Exit(m.Run())
}

func TestPasswordHash(t *testing.T) {
	defer console.UseProductionHashCost()()
	h, err := console.HashPassword("correct horse")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"))
	ok, err := console.CheckPassword(h, "correct horse")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, _ = console.CheckPassword(h, "correct horsE")
	assert.False(t, ok)
	_, err = console.CheckPassword("$argon2id$v=19$m=0,t=1,p=1$c2FsdA$a2V5", "x")
	assert.Error(t, err)
	assert.Len(t, console.NewPassword(), 16)
}
