package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.In(bourse.Paris).Format("02/01/2006") },
	"dateheure": func(t time.Time) string {
		return t.In(bourse.Paris).Format("02/01/2006 15:04")
	},
	"datep": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.In(bourse.Paris).Format("02/01/2006 15:04")
	},
	"iso":    func(t time.Time) string { return t.In(bourse.Paris).Format(time.RFC3339) },
	"statut": statutLabel,
	"path":   func(s string) string { return Path + s },
	"add":    func(a, b int) int { return a + b },
}

// pages are the templates, each with the layout.
var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		m[strings.TrimSuffix(base, ".html")] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", n))
	}
	return m
}()

// view is what every page's template gets.
type view struct {
	Title   string
	Nav     string // the active menu entry
	Session *Session
	CSRF    string
	Data    any
	Message string
	Statut  int
	Listes  []listeLink
	Search  bool
}

type listeLink struct{ Nom, Label string }

// render writes the page name with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	if s, ok := sessionFrom(r.Context()); ok {
		v.Session = &s
		v.CSRF = s.CSRF
	}
	v.Listes = listeLinks
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, v); err != nil {
		c.log.Error("template", zap.String("page", name), zap.Error(err))
		http.Error(w, "erreur interne", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	c.render(w, r, status, "erreur", view{Title: title, Message: msg, Statut: status})
}

// serveStatic serves the style sheet and the script.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// statutLabel is the French label of a statut (and type of decision).
func statutLabel(s bourse.Statut, t bourse.TypeDecision) string {
	switch s {
	case bourse.StatutBoursier:
		switch t {
		case bourse.TypeDefinitive:
			return "Boursier (définitif)"
		case bourse.TypeConditionnelle:
			return "Boursier (conditionnel)"
		}
		return "Boursier"
	case bourse.StatutEnAttente:
		return "En attente"
	case bourse.StatutNonBoursier:
		return "Non boursier"
	case bourse.StatutInconnu:
		return "Inconnu"
	}
	return string(s)
}
