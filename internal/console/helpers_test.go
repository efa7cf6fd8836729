package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/console"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

const (
	uaiA     = "0781944P"
	uaiB     = "0751717J"
	password = "un mot de passe assez long"
)

// testClock is the console's clock, moved by the tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (h *testClock) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.t
}

func (h *testClock) add(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.t = h.t.Add(d)
}

// consultant records the lookups the console replays.
type consultant struct {
	mu    sync.Mutex
	calls []bourse.Appelant
	in    []bourse.Saisie
}

func (c *consultant) Consult(ctx context.Context, in bourse.Saisie) (bourse.Reponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, _ := bourse.AppelantFrom(ctx)
	c.calls = append(c.calls, a)
	c.in = append(c.in, in)
	return bourse.Reponse{Identifiant: in.Identifiant, AnneeUniversitaire: in.Annee, Statut: bourse.StatutBoursier,
		TypeDecision: bourse.TypeDefinitive, Echelon: "4", Correspondance: bourse.ByIdentifiant}, nil
}

type fixture struct {
	pool  *pgxpool.Pool
	srv   *httptest.Server
	clock *testClock
	svc   *consultant
}

// newFixture starts the console on a fresh database holding a few
// consultations of two establishments, and one account per kind.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pgtest.New(t)
	f := &fixture{pool: pool, clock: &testClock{t: time.Date(2025, 11, 15, 10, 0, 0, 0, bourse.Paris)}, svc: &consultant{}}
	addUser(t, pool, console.Utilisateur{Email: "gestion@univ-a.example.fr", UAI: uaiA})
	addUser(t, pool, console.Utilisateur{Email: "gestion@univ-b.example.fr", UAI: uaiB})
	addUser(t, pool, console.Utilisateur{Email: "crous@crous-versailles.example.fr", Academie: "VER"})
	seed(t, pool, []row{
		{uai: uaiA, identifiant: "1111037734L", statut: "BOURSIER", typeDecision: "DEFINITIVE", canal: "REST", at: f.clock.t.Add(-48 * time.Hour)},
		{uai: uaiA, identifiant: "1111037735M", statut: "EN_ATTENTE", canal: "SOAP", at: f.clock.t.Add(-30 * time.Hour)},
		{uai: uaiA, identifiant: "2000000166Z", statut: "INCONNU", canal: "REST", at: f.clock.t.Add(-24 * time.Hour)},
		{uai: uaiB, identifiant: "2000000044S", statut: "NON_BOURSIER", canal: "REST", at: f.clock.t.Add(-24 * time.Hour)},
	})
	c := console.New(console.Options{
		Utilisateurs: postgres.NewUtilisateurs(pool), Sessions: postgres.NewSessions(pool),
		Journal: postgres.NewConsole(pool), Suivi: postgres.NewSuivi(pool), Consultant: f.svc,
		Now: f.clock.Now, SessionTTL: time.Hour,
	})
	r := chi.NewRouter()
	c.Mount(r)
	f.srv = httptest.NewServer(r)
	t.Cleanup(f.srv.Close)
	return f
}

func addUser(t testing.TB, pool *pgxpool.Pool, u console.Utilisateur) {
	t.Helper()
	h, err := console.HashPassword(password)
	require.NoError(t, err)
	u.Hash = h
	_, err = postgres.NewUtilisateurs(pool).Add(context.Background(), u)
	require.NoError(t, err)
}

type row struct {
	uai, identifiant, statut, typeDecision, canal string
	at                                            time.Time
	annee                                         int    // 2025 when 0
	correspondance, identifiantAglae              string // IDENTIFIANT, none when ""
}

// seed writes consultations of the year 2025 straight into the log.
func seed(t testing.TB, pool *pgxpool.Pool, rows []row) {
	t.Helper()
	src := make([][]any, len(rows))
	for i, r := range rows {
		var td any
		if r.typeDecision != "" {
			td = r.typeDecision
		}
		annee, corr := r.annee, r.correspondance
		if annee == 0 {
			annee = 2025
		}
		if corr == "" {
			corr = "IDENTIFIANT"
		}
		var aglae any
		if r.identifiantAglae != "" {
			aglae = r.identifiantAglae
		}
		src[i] = []any{r.at, "test", r.uai, r.canal, r.identifiant, int16(annee), r.statut, td, "AUCUN_DOSSIER", corr, aglae, "req", int32(100)}
	}
	_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"connecteur", "consultation"},
		[]string{"horodatage", "client_id", "uai", "canal", "identifiant", "annee_universitaire", "statut", "type_decision", "raison", "correspondance", "identifiant_aglae", "request_id", "latence_us"},
		pgx.CopyFromRows(src))
	require.NoError(t, err)
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: f.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Get(b.base + path)
	require.NoError(b.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return res, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return res, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the form in body.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(t, m, "no CSRF field in the page")
	return m[1]
}

// signIn signs b in as email and returns the session's CSRF token.
func (b *browser) signIn(email string) string {
	b.t.Helper()
	_, body := b.get("/console/connexion")
	res, _ := b.post("/console/connexion", url.Values{"csrf": {csrf(b.t, body)}, "email": {email}, "mot_de_passe": {password}})
	require.Equal(b.t, http.StatusSeeOther, res.StatusCode)
	require.Equal(b.t, "/console/", res.Header.Get("Location"))
	res, body = b.get("/console/")
	require.Equal(b.t, http.StatusOK, res.StatusCode)
	return csrf(b.t, body)
}

func postgresUsers(f *fixture) *postgres.Utilisateurs { return postgres.NewUtilisateurs(f.pool) }

func pgtestNew(b *testing.B) *pgxpool.Pool { return pgtest.New(b) }
