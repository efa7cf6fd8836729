// Package console is the gestionnaires' web console: server-rendered pages
// (html/template, in French) over the same data and functions as the
// control-list API (package suivi), behind accounts and server-side
// sessions of its own, distinct from the API clients.
//
// A gestionnaire is bound to one establishment and sees only it; a CROUS
// user is bound to an académie and, until registrations exist, sees a page
// that says so. Every form carries a per-session CSRF token (the sign-in
// form a double-submit cookie), and net/http's CrossOriginProtection
// refuses cross-origin POSTs besides. Pages carry a strict
// Content-Security-Policy: no inline script or style. Identifiers and
// names never travel in a query string: searches are POSTed, and the
// student page's path is logged as its route pattern, like the REST route.
package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Path is where the console is mounted.
const Path = "/console"

// DefaultSessionTTL is how long a session lasts after sign-in.
const DefaultSessionTTL = 8 * time.Hour

// Consultant answers one lookup: the console's replay of a student's.
type Consultant interface {
	Consult(ctx context.Context, in bourse.Saisie) (bourse.Reponse, error)
}

// Options are what the console needs.
type Options struct {
	Utilisateurs Utilisateurs
	Sessions     Sessions
	Journal      Journal
	Suivi        suivi.Store
	// Consultant replays a lookup ("vérifier maintenant"); it should be
	// the traced one, so that the replay is recorded (canal CONSOLE).
	Consultant Consultant
	SwitchDate bourse.SwitchDate
	Now        func() time.Time // time.Now when nil
	SessionTTL time.Duration    // DefaultSessionTTL when 0
	PageSize   int              // rows per page of a table; 50 when 0
	// TrustForwardedHeaders: behind a trusted proxy, X-Forwarded-Proto
	// says whether the browser used HTTPS (the cookie's Secure flag) and
	// X-Forwarded-For gives the address sign-ins are rate-limited by.
	TrustForwardedHeaders bool
	Logger                *zap.Logger
}

// Console serves the pages.
type Console struct {
	opts    Options
	log     *zap.Logger
	byEmail *limiter
	byAddr  *limiter
}

// New returns the console.
func New(opts Options) *Console {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	c := &Console{opts: opts, log: zap.NewNop(),
		// Per account: 5 attempts, then one every minute. Per address:
		// 20, then one every 6 s (an office behind one NAT).
		byEmail: newLimiter(rate.Every(time.Minute), 5),
		byAddr:  newLimiter(rate.Every(6*time.Second), 20),
	}
	if opts.Logger != nil {
		c.log = opts.Logger.Named("console")
	}
	return c
}

func (c *Console) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// Handler returns the console's routes, to be mounted at [Path].
func (c *Console) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(headers)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusNotFound, "Page introuvable", "Cette page n'existe pas.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusMethodNotAllowed, "Méthode non permise", "Cette page ne s'ouvre pas ainsi.")
	})
	r.Get("/static/{file}", serveStatic)
	r.Get("/connexion", c.op("GET connexion", c.getSignIn))
	r.Post("/connexion", c.op("POST connexion", c.postSignIn))
	r.Group(func(r chi.Router) {
		r.Use(c.session, c.csrf)
		r.Post("/deconnexion", c.op("POST deconnexion", c.postSignOut))
		r.Get("/", c.op("GET bilan", c.getBilan))
		r.Group(func(r chi.Router) {
			r.Use(c.requireGestionnaire)
			r.Get("/listes/{liste}", c.op("GET liste", c.liste))
			r.Post("/listes/{liste}", c.op("POST liste", c.liste))
			r.Get("/listes/{liste}/csv", c.op("GET liste csv", c.listeCSV))
			r.Get("/suivi", c.op("GET suivi", c.suivi))
			r.Post("/suivi", c.op("POST suivi", c.suivi))
			r.Get("/suivi/csv", c.op("GET suivi csv", c.suiviCSV))
			r.Get("/etudiants/{identifiant}", c.op("GET etudiant", c.getEtudiant))
			r.Post("/etudiants/{identifiant}/verifier", c.op("POST verifier", c.postCheckNow))
		})
	})
	return http.NewCrossOriginProtection().Handler(r)
}

// Mount registers the console under [Path] on r.
func (c *Console) Mount(r chi.Router) { r.Mount(Path, c.Handler()) }

// headers are the security headers of every console answer.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// op names the operation for the access log and turns an error into an
// error page through web.Classify, logging a 5xx's cause.
func (c *Console) op(name string, h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ann := web.Annotate(r.Context())
		ann.Operation = "console " + name
		err := h(w, r)
		if err == nil {
			return
		}
		k, detail := web.Classify(err)
		ann.Erreur = k.Type
		if k.Status >= 500 {
			ann.Cause = err
			c.log.Error("request failed", zap.String("request_id", middleware.GetReqID(r.Context())),
				zap.String("operation", name), zap.Int("status", k.Status), zap.Error(err))
		}
		title, msg := "Erreur", detail
		switch k.Status {
		case http.StatusBadRequest:
			title = "Demande invalide"
		case http.StatusForbidden:
			title = "Accès refusé"
		case http.StatusNotFound:
			title = "Introuvable"
		case http.StatusServiceUnavailable:
			title, msg = "Service momentanément indisponible", "La base de données ne répond pas ; réessayez dans un instant."
		case http.StatusInternalServerError:
			title, msg = "Erreur interne", "Une erreur interne s'est produite ; l'identifiant de requête "+
				middleware.GetReqID(r.Context())+" la retrouve dans le journal du service."
		}
		c.renderError(w, r, k.Status, title, msg)
	}
}

// forbidden is the error of a page outside the user's scope.
func forbidden(msg string) error { return web.Errorf(web.Forbidden, msg) }

type sessionKey struct{}

func sessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

const (
	cookieSession = "console_session"
	cookieCSRF    = "console_csrf"
)

func digest(token string) []byte {
	d := sha256.Sum256([]byte(token))
	return d[:]
}

// session finds the request's session; without a live one, back to the
// sign-in page.
func (c *Console) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(cookieSession)
		if err == nil && ck.Value != "" && len(ck.Value) <= 100 {
			s, err := c.opts.Sessions.Get(r.Context(), digest(ck.Value), c.now())
			if err == nil {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
				return
			}
			var be *bourse.Error
			if !errors.As(err, &be) || be.Kind != bourse.KindNotFound {
				c.op("session", func(http.ResponseWriter, *http.Request) error { return err })(w, r)
				return
			}
			c.clearCookie(w, r, cookieSession, Path)
		}
		http.Redirect(w, r, Path+"/connexion", http.StatusSeeOther)
	})
}

// csrf refuses a POST whose form does not carry the session's token.
func (c *Console) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			s, _ := sessionFrom(r.Context())
			if !sameToken(r.PostFormValue("csrf"), s.CSRF) {
				web.Annotate(r.Context()).Erreur = "csrf"
				c.renderError(w, r, http.StatusForbidden, "Formulaire refusé",
					"Ce formulaire n'est pas valide ou a expiré : rechargez la page et recommencez.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// gestionnaire lets only establishment users through.
func (c *Console) requireGestionnaire(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionFrom(r.Context())
		if !s.Utilisateur.Gestionnaire() {
			c.op("gestionnaire", func(http.ResponseWriter, *http.Request) error {
				return forbidden("Ces pages sont celles des gestionnaires d'un établissement.")
			})(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// secure reports whether the browser reached the console over HTTPS.
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || c.opts.TrustForwardedHeaders && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

// address is the client's address, for the sign-in rate limit.
func (c *Console) address(r *http.Request) string {
	if c.opts.TrustForwardedHeaders {
		if f := r.Header.Values("X-Forwarded-For"); len(f) > 0 {
			parts := strings.Split(f[len(f)-1], ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); a != "" {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
