package console_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/console"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/servertest"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the README's two screenshots to docs/screenshots")

// repo is a path in the repository.
func repo(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, elem...)...)
}

var installMu sync.Mutex

// chromium returns the path of Debian's chromium, installed with apt-get
// when missing (the test is skipped when it cannot be).
func chromium(t *testing.T) string {
	installMu.Lock()
	defer installMu.Unlock()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		t.Skip("missing chromium and cannot install it here (needs root and apt-get): apt-get install chromium")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update", "-q"}, {"install", "-y", "-q", "--no-install-recommends", "chromium"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "apt-get %s:\n%s", strings.Join(args, " "), out)
	}
	p, err := exec.LookPath("chromium")
	require.NoError(t, err)
	return p
}

// axeSource is axe-core's script, installed with npm into the user's cache
// (outside the checkout) when missing.
func axeSource(t *testing.T) string {
	installMu.Lock()
	defer installMu.Unlock()
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	dir := filepath.Join(cache, "aglae-connector", "axe-core")
	file := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(file); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			t.Skip("missing npm to install axe-core: apt-get install npm")
		}
		require.NoError(t, os.MkdirAll(dir, 0o755))
		cmd := exec.CommandContext(t.Context(), "npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "axe-core@4")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm install axe-core:\n%s", out)
	}
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	return string(b)
}

type live struct {
	base, secret string
	pool         *postgres.Pool
	annee        int
}

// startLive starts the whole service (REST API and console) on a
// database with the testdata extract, an API client and a gestionnaire of
// establishment A, and consultations of the current year.
func startLive(t *testing.T) *live {
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	f, err := os.Open(repo("testdata", "extract.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	_, err = postgres.Import(ctx, pool, f, postgres.ImportOptions{})
	require.NoError(t, err)
	id, secret := auth.NewCredentials()
	hash, err := auth.HashSecret(secret)
	require.NoError(t, err)
	require.NoError(t, postgres.NewClients(pool).Add(ctx, auth.NewClient{ID: id, Nom: "Apogée", UAI: uaiA, SecretHash: hash}))
	addUser(t, pool, console.Utilisateur{Email: "gestion@univ-a.example.fr", UAI: uaiA})

	now := time.Now()
	annee := bourse.DefaultSwitchDate.CurrentAnnee(now)
	var rows []row
	statuts := []struct{ s, td string }{{"BOURSIER", "DEFINITIVE"}, {"BOURSIER", "CONDITIONNELLE"}, {"EN_ATTENTE", ""}, {"NON_BOURSIER", ""}, {"INCONNU", ""}}
	for i := range 240 {
		st := statuts[i%len(statuts)]
		r := row{uai: uaiA, identifiant: fmt.Sprintf("12345%06d", i), statut: st.s, typeDecision: st.td, canal: "REST",
			at: now.Add(-time.Duration(i%37)*24*time.Hour - time.Hour), annee: annee}
		if i%17 == 0 {
			r.correspondance, r.identifiantAglae = "IDENTITE", fmt.Sprintf("54321%06d", i)
		}
		rows = append(rows, r)
	}
	rows = append(rows,
		row{uai: uaiA, identifiant: "1111037734L", statut: "EN_ATTENTE", canal: "SOAP", at: now.Add(-72 * time.Hour), annee: 2014},
		row{uai: uaiB, identifiant: "2000000044S", statut: "NON_BOURSIER", canal: "REST", at: now.Add(-24 * time.Hour), annee: annee})
	seed(t, pool, rows)

	svc := servertest.Start(t, servertest.Config(t, url), nil)
	return &live{base: svc.URL(), secret: secret, pool: pool, annee: annee}
}

// api gets path from the REST API as the establishment's client.
func (l *live) api(t *testing.T, path, accept string) []byte {
	req, err := http.NewRequest(http.MethodGet, l.base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+l.secret)
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, string(b))
	return b
}

// TestBrowser drives the console in headless Chromium as a gestionnaire
// would, keyboard included, checks its figures and CSV against the API's,
// and runs axe-core on every page.
func TestBrowser(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	axe := axeSource(t)
	l := startLive(t)
	shots := t.TempDir()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 1000),
	}
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, actions...), what)
	}
	eval := func(what, expr string, opts ...chromedp.EvaluateOption) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, opts...))
		require.NoError(t, err, what)
		return v
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, "text of "+sel)
		return strings.TrimSpace(s)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err, "screenshot "+name)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644))
		if *updateScreenshots && (name == "bilan" || name == "liste") {
			require.NoError(t, os.WriteFile(repo("docs", "screenshots", "console-"+name+".png"), png, 0o644))
		}
	}
	accessible := func(page string) {
		t.Helper()
		run("axe-core in "+page, chromedp.Evaluate[chromedp.Void](axe))
		out := eval("axe on "+page, `axe.run(document).then(r => JSON.stringify(
			r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" "))}))))`,
			chromedp.EvalAwaitPromise)
		assert.Equal(t, "[]", out, "axe-core: serious or critical violations on %s", page)
	}
	// newPage runs actions that submit a form and waits until the page they
	// load is complete and expr holds on it. The old page is marked first,
	// since the list page before the search has the same elements; a poll
	// that the navigation cuts short is made again on the new page.
	newPage := func(what, expr string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		run(what+": mark the page", chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.ancienne = "1"`))
		run(what, actions...)
		cond := `document.readyState === "complete" && !document.documentElement.dataset.ancienne && Boolean(` + expr + `)`
		for {
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond))
			if err == nil {
				return
			}
			require.ErrorContains(t, err, "-32000", what) // "Inspected target navigated or closed"
		}
	}
	active := func() string {
		return eval("active element", `(document.activeElement.id || document.activeElement.textContent || "").trim()`)
	}

	// Not signed in: the sign-in page. A wrong password, keyboard only.
	run("open", chromedp.Navigate(l.base+"/console/"), chromedp.WaitVisible(chromedp.ID("email")))
	assert.Equal(t, "email", active(), "the e-mail field has the focus")
	shot("connexion")
	accessible("connexion")
	run("wrong password", chromedp.KeyEvent("gestion@univ-a.example.fr"), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent("mauvais mot de passe"),
		chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("erreur-connexion")))
	assert.Equal(t, "Adresse e-mail ou mot de passe incorrect.", text("#erreur-connexion"))
	accessible("connexion with its error")

	// Sign in with Tab and Enter only.
	run("sign in", chromedp.Focus(chromedp.ID("mot_de_passe")))
	email, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("email")))
	require.NoError(t, err)
	assert.Equal(t, "gestion@univ-a.example.fr", email)
	run("sign in", chromedp.KeyEvent(password), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`[data-compte="Total"]`)))

	// The bilan's figures are the API's.
	var statuts struct {
		Statuts []struct {
			Statut       string `json:"statut"`
			TypeDecision string `json:"typeDecision"`
			Etudiants    int    `json:"etudiants"`
		} `json:"statuts"`
		Total int `json:"total"`
	}
	annee := strconv.Itoa(l.annee)
	require.NoError(t, json.Unmarshal(l.api(t, "/v1/etablissements/"+uaiA+"/controles/statuts?annee="+annee, "application/json"), &statuts))
	assert.Equal(t, strconv.Itoa(statuts.Total), text(`[data-compte="Total"]`))
	assert.Equal(t, 240, statuts.Total)
	for _, s := range statuts.Statuts {
		label := map[string]string{"BOURSIERDEFINITIVE": "Boursier (définitif)", "BOURSIERCONDITIONNELLE": "Boursier (conditionnel)",
			"EN_ATTENTE": "En attente", "NON_BOURSIER": "Non boursier", "INCONNU": "Inconnu"}[s.Statut+s.TypeDecision]
		assert.Equal(t, strconv.Itoa(s.Etudiants), text(`[data-compte="`+label+`"]`), label)
	}
	for _, liste := range []string{"numeros-differents", "en-attente", "inconnus", "identites-differentes"} {
		var c struct{ Etudiants []json.RawMessage }
		require.NoError(t, json.Unmarshal(l.api(t, "/v1/etablissements/"+uaiA+"/controles/"+liste+"?annee="+annee, "application/json"), &c))
		assert.Equal(t, strconv.Itoa(len(c.Etudiants)), text(`[data-liste="`+liste+`"]`), liste)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.graphique rect[fill^='url']").length`))
	require.NoError(t, err)
	assert.Greater(t, bars, 37, "the chart has a bar segment per day and statut")
	shot("bilan")
	accessible("bilan")

	// Keyboard only on the bilan: the skip link first, then Tab to the list
	// of unknown identifiers and Enter.
	run("top", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); window.scrollTo(0, 0)`), chromedp.KeyEvent(kb.Tab))
	assert.Equal(t, "Aller au contenu", active())
	found := false
	for range 40 {
		run("tab", chromedp.KeyEvent(kb.Tab))
		href := eval("href", `document.activeElement.closest("main") ? (document.activeElement.getAttribute("href") || "") : ""`)
		if href == "/console/listes/inconnus" {
			found = true
			break
		}
	}
	require.True(t, found, "the list of unknown identifiers is reachable with Tab")
	run("enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("q")))
	assert.Contains(t, text("h1"), "Inconnus")
	accessible("liste")

	// Search a list by a number fragment.
	newPage("search", `document.querySelector(".resultat")?.textContent.includes("correspondant")`,
		chromedp.SendKeys(chromedp.ID("q"), "000009"), chromedp.Submit(chromedp.ID("q")))
	assert.Contains(t, text(".resultat"), "1 étudiant correspondant")
	assert.Equal(t, "12345000009", text("tbody th"))
	shot("liste")

	// The CSV the browser downloads is the API's, byte for byte.
	csvConsole := eval("csv", `fetch(document.querySelector("a[download]").href).then(r => r.text())`, chromedp.EvalAwaitPromise)
	assert.Equal(t, string(l.api(t, "/v1/etablissements/"+uaiA+"/controles/inconnus?annee="+annee, "text/csv")), csvConsole)

	// The follow-up, and a form sent without its CSRF token.
	run("suivi", chromedp.Navigate(l.base+"/console/suivi"), chromedp.WaitVisible(chromedp.ID("depuis")))
	shot("suivi")
	accessible("suivi")
	run("no csrf", chromedp.Evaluate[chromedp.Void](`document.querySelector("#filtres input[name=csrf]").remove(); document.querySelector("#filtres").submit()`),
		chromedp.WaitVisible(chromedp.CSS(".alerte")))
	assert.Equal(t, "Formulaire refusé", text("h1"))

	// A student, and the lookup replayed.
	run("student", chromedp.Navigate(l.base+"/console/etudiants/1111037734L"), chromedp.WaitVisible(chromedp.CSS(".verifier button")))
	accessible("etudiant")
	run("verify", chromedp.Click(chromedp.CSS(".verifier button")), chromedp.WaitVisible(chromedp.ID("reponse-verifiee")))
	assert.Contains(t, text("#reponse-verifiee"), "Boursier")
	shot("etudiant")
	accessible("etudiant verified")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		require.NoError(t, l.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM connecteur.consultation WHERE canal = 'CONSOLE' AND identifiant = '1111037734L' AND uai = $1`, uaiA).Scan(&n))
		if n == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the replayed lookup is not in the consultation log")
		time.Sleep(50 * time.Millisecond) // polls for the journal's batch: a condition, not a delay
	}

	// Another establishment's student: 403.
	run("other", chromedp.Navigate(l.base+"/console/etudiants/2000000044S"), chromedp.WaitVisible(chromedp.CSS(".alerte")))
	assert.Equal(t, "Accès refusé", text("h1"))
	shot("refus")
	accessible("refus")

	// Sign out: back to the sign-in page, and the bilan is closed.
	run("sign out", chromedp.Navigate(l.base+"/console/"), chromedp.WaitVisible(chromedp.CSS(".deconnexion button")),
		chromedp.Click(chromedp.CSS(".deconnexion button")), chromedp.WaitVisible(chromedp.ID("email")))
	run("bilan again", chromedp.Navigate(l.base+"/console/"), chromedp.WaitVisible(chromedp.ID("email")))

	// An expired session: back to the sign-in page.
	run("sign in again", chromedp.SendKeys(chromedp.ID("email"), "gestion@univ-a.example.fr"),
		chromedp.SendKeys(chromedp.ID("mot_de_passe"), password), chromedp.Submit(chromedp.ID("mot_de_passe")),
		chromedp.WaitVisible(chromedp.CSS(`[data-compte="Total"]`)))
	_, err = l.pool.Exec(context.Background(), `UPDATE connecteur.session SET expire_le = now() - interval '1 second'`)
	require.NoError(t, err)
	run("expired", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("email")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, l.base+"/console/connexion", loc)
	t.Logf("screenshots in %s", shots)
}
