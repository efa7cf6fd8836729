package suivi

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Options configures the HTTP routes.
type Options struct {
	// Bascule gives the default academic year of the control lists.
	Bascule bourse.Bascule
	// Now is time.Now when nil.
	Now func() time.Time
	// Logger receives the cause of every 5xx answer, at error level, with
	// the request id. Nil: nothing is logged.
	Logger *zap.Logger
}

// Operation names, as the access log shows them.
const (
	opSuivi    = "GET suivi"
	opControle = "GET controle"
)

// Mount registers the routes on r, which must authenticate its requests
// first (auth.Middleware puts the client in the context):
//
//	GET /v1/etablissements/{uai}/suivi?depuis=RFC3339            the follow-up
//	GET /v1/etablissements/{uai}/controles/{liste}?annee=YYYY    a control list
//
// Both answer JSON, or CSV to a request that prefers text/csv in its
// Accept header. Only the establishment's own API clients may read them:
// a client of another establishment, or an integrator (a client without a
// UAI), gets 403. A malformed uai, depuis, annee or an unknown list gets
// 400; every error is an application/problem+json.
func Mount(r chi.Router, store Store, opts Options) {
	h := &api{store: store, opts: opts, log: zap.NewNop()}
	if opts.Logger != nil {
		h.log = opts.Logger.Named("suivi")
	}
	r.Get("/v1/etablissements/{uai}/suivi", h.handle(opSuivi, h.getSuivi))
	r.Get("/v1/etablissements/{uai}/controles/{liste}", h.handle(opControle, h.getControle))
}

type api struct {
	store Store
	opts  Options
	log   *zap.Logger
}

// handle adapts h: it names the operation for the access log and turns
// the error h returns into a problem, logging a 5xx's cause.
func (a *api) handle(op string, h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		web.Annotate(r.Context()).Operation = op
		err := h(w, r)
		if err == nil {
			return
		}
		if k, _ := web.Classify(err); k.Status >= 500 {
			a.log.Error("request failed", zap.String("request_id", middleware.GetReqID(r.Context())),
				zap.String("operation", op), zap.Int("status", k.Status), zap.Error(err))
		}
		rest.WriteProblem(w, r, err)
	}
}

// etablissement returns the {uai} of the path once it checked that the
// authenticated client belongs to it.
func etablissement(r *http.Request) (string, error) {
	uai, err := parseUAI(chi.URLParam(r, "uai"))
	if err != nil {
		return "", err
	}
	c, ok := auth.ClientDe(r.Context())
	switch {
	case !ok:
		return "", web.Errorf(web.Forbidden, "no authenticated API client")
	case c.UAI == "":
		return "", web.Errorf(web.Forbidden, "an establishment's follow-up and control lists are for its own API clients; this client belongs to no establishment")
	case c.UAI != uai:
		return "", web.Errorf(web.Forbidden, "an establishment's follow-up and control lists are for its own API clients; this client belongs to another establishment")
	}
	return uai, nil
}

func (a *api) getSuivi(w http.ResponseWriter, r *http.Request) error {
	uai, err := etablissement(r)
	if err != nil {
		return err
	}
	format, err := negocier(r.Header.Values("Accept"))
	if err != nil {
		return err
	}
	q, err := query(r, "depuis")
	if err != nil {
		return err
	}
	v := q.Get("depuis")
	if v == "" {
		return bourse.Invalid("depuis", "required: an RFC 3339 time, e.g. 2025-09-01T00:00:00+02:00")
	}
	depuis, err := time.Parse(time.RFC3339Nano, v)
	if err != nil && strings.Contains(v, " ") {
		// An offset's + typed unescaped in the URL reads as a space.
		depuis, err = time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1))
	}
	if err != nil {
		return bourse.Invalid("depuis", "must be an RFC 3339 time, e.g. 2025-09-01T00:00:00+02:00")
	}
	cs, err := Suivi(r.Context(), a.store, uai, depuis)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := EcrireSuivi(&buf, format, uai, depuis, cs); err != nil {
		return err
	}
	return envoyer(w, format, "suivi-"+uai+".csv", buf.Bytes())
}

func (a *api) getControle(w http.ResponseWriter, r *http.Request) error {
	uai, err := etablissement(r)
	if err != nil {
		return err
	}
	nom := chi.URLParam(r, "liste")
	if nom != ListeStatuts && filtres[nom] == nil {
		return bourse.Invalid("liste", "unknown list %q: want one of %s", clip(nom), strings.Join(Listes, ", "))
	}
	format, err := negocier(r.Header.Values("Accept"))
	if err != nil {
		return err
	}
	q, err := query(r, "annee")
	if err != nil {
		return err
	}
	annee := a.opts.Bascule.AnneeCourante(a.now())
	if v := q.Get("annee"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || len(v) != 4 {
			return bourse.Invalid("annee", "must be a year YYYY, e.g. 2025 for 2025–2026")
		}
		annee = n
	}
	c, err := Liste(r.Context(), a.store, uai, annee, nom)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := EcrireListe(&buf, format, c); err != nil {
		return err
	}
	return envoyer(w, format, nom+"-"+uai+"-"+strconv.Itoa(annee)+".csv", buf.Bytes())
}

func (a *api) now() time.Time {
	if a.opts.Now != nil {
		return a.opts.Now()
	}
	return time.Now()
}

// query parses the query string, which may hold the parameter allowed,
// once, and nothing else.
func query(r *http.Request, allowed string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, web.Errorf(web.InvalidInput, "the query string is malformed")
	}
	for k, vs := range q {
		if k != allowed {
			return nil, web.Errorf(web.InvalidInput, "unknown query parameter "+strconv.Quote(clip(k))+": the only one accepted is "+allowed)
		}
		if len(vs) > 1 {
			return nil, bourse.Invalid(allowed, "given more than once")
		}
	}
	return q, nil
}

// negocier picks the format of the answer from the Accept header: the
// acceptable type (application/json or text/csv, wildcards included) of
// highest quality; on a tie a type named outright before a wildcard, then
// the first named; JSON when there is no Accept header. None acceptable:
// 406.
func negocier(accept []string) (string, error) {
	if len(accept) == 0 {
		return FormatJSON, nil
	}
	best, bestQ, bestExplicit := "", 0.0, false
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			var f string
			explicit := false
			switch mt {
			case "application/json":
				f, explicit = FormatJSON, true
			case "text/csv":
				f, explicit = FormatCSV, true
			case "*/*", "application/*":
				f = FormatJSON
			case "text/*":
				f = FormatCSV
			default:
				continue
			}
			if q > 0 && (q > bestQ || q == bestQ && explicit && !bestExplicit) {
				best, bestQ, bestExplicit = f, q, explicit
			}
		}
	}
	if best == "" {
		return "", web.Errorf(web.NotAcceptable, "this resource is available as application/json or text/csv")
	}
	return best, nil
}

// envoyer writes body, in format, with status 200.
func envoyer(w http.ResponseWriter, format, fichier string, body []byte) error {
	h := w.Header()
	if format == FormatCSV {
		h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
		h.Set("Content-Disposition", `attachment; filename="`+fichier+`"`)
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Cache-Control", "no-store") // personal data, and it changes
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}
