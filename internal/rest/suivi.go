package rest

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// FollowUp is what the follow-up routes read: package suivi's follow-up
// and control lists over the consultation log (suivi.Reader). Its errors
// are of kind Invalid, Unavailable or Internal.
type FollowUp interface {
	// Suivi returns the follow-up of the establishment uai from since on
	// (suivi.Suivi).
	Suivi(ctx context.Context, uai string, since time.Time) ([]suivi.Change, error)
	// Liste returns the control list nom of the establishment uai for the
	// academic year annee (suivi.Liste).
	Liste(ctx context.Context, uai string, annee int, nom string) (suivi.Controle, error)
}

// SuiviOptions configures the follow-up routes.
type SuiviOptions struct {
	// SwitchDate gives the default academic year of the control lists.
	SwitchDate bourse.SwitchDate
	// Now is time.Now when nil.
	Now func() time.Time
	// Logger receives the cause of every 5xx answer, at error level, with
	// the request id. Nil: nothing is logged.
	Logger *zap.Logger
}

// Operation names of the follow-up routes, as the access log shows them.
const (
	opSuivi    = "GET suivi"
	opControle = "GET controle"
)

// MountSuivi registers the follow-up routes on r, which must authenticate
// its requests first (auth.Middleware puts the client in the context):
//
//	GET /v1/etablissements/{uai}/suivi?depuis=RFC3339            the follow-up
//	GET /v1/etablissements/{uai}/controles/{liste}?annee=YYYY    a control list
//
// Both answer JSON, or CSV to a request that prefers text/csv in its
// Accept header. Only the establishment's own API clients may read them:
// a client of another establishment, or an integrator (a client without a
// UAI), gets 403. A malformed uai, depuis, annee or an unknown list gets
// 400; every error is an application/problem+json.
func MountSuivi(r chi.Router, src FollowUp, opts SuiviOptions) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	h := &suiviRoutes{api: &API{log: log.Named("suivi")}, src: src, opts: opts}
	r.Get("/v1/etablissements/{uai}/suivi", h.api.handle(opSuivi, h.getSuivi))
	r.Get("/v1/etablissements/{uai}/controles/{liste}", h.api.handle(opControle, h.getControle))
}

// suiviRoutes serves the follow-up routes; api gives them the REST
// face's handle.
type suiviRoutes struct {
	api  *API
	src  FollowUp
	opts SuiviOptions
}

// etablissement returns the {uai} of the path once it checked that the
// authenticated client belongs to it.
func etablissement(r *http.Request) (string, error) {
	code, err := bourse.ParseUAI("uai", chi.URLParam(r, "uai"))
	if err != nil {
		return "", err
	}
	uai := string(code)
	c, ok := auth.ClientFrom(r.Context())
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

func (h *suiviRoutes) getSuivi(w http.ResponseWriter, r *http.Request) error {
	uai, err := etablissement(r)
	if err != nil {
		return err
	}
	format, err := negotiate(r.Header.Values("Accept"))
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
	cs, err := h.src.Suivi(r.Context(), uai, depuis)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := suivi.WriteSuivi(&buf, format, uai, depuis, cs); err != nil {
		return err
	}
	return send(w, format, "suivi-"+uai+".csv", buf.Bytes())
}

func (h *suiviRoutes) getControle(w http.ResponseWriter, r *http.Request) error {
	uai, err := etablissement(r)
	if err != nil {
		return err
	}
	nom := chi.URLParam(r, "liste")
	if !slices.Contains(suivi.Listes, nom) {
		return bourse.Invalid("liste", "unknown list %q: want one of %s", clip(nom), strings.Join(suivi.Listes, ", "))
	}
	format, err := negotiate(r.Header.Values("Accept"))
	if err != nil {
		return err
	}
	q, err := query(r, "annee")
	if err != nil {
		return err
	}
	annee := h.opts.SwitchDate.CurrentAnnee(h.now())
	if v := q.Get("annee"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || len(v) != 4 {
			return bourse.Invalid("annee", "must be a year YYYY, e.g. 2025 for 2025–2026")
		}
		annee = n
	}
	c, err := h.src.Liste(r.Context(), uai, annee, nom)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := suivi.WriteListe(&buf, format, c); err != nil {
		return err
	}
	return send(w, format, nom+"-"+uai+"-"+strconv.Itoa(annee)+".csv", buf.Bytes())
}

func (h *suiviRoutes) now() time.Time {
	if h.opts.Now != nil {
		return h.opts.Now()
	}
	return time.Now()
}

// query parses the query string, which may hold the parameter
// allowed, once, and nothing else.
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

// negotiate picks the format of the answer from the Accept header: the
// acceptable type (application/json or text/csv, wildcards included) of
// highest quality; on a tie a type named outright before a wildcard, then
// the first named; JSON when there is no Accept header. None acceptable:
// 406.
func negotiate(accept []string) (string, error) {
	if len(accept) == 0 {
		return suivi.FormatJSON, nil
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
				f, explicit = suivi.FormatJSON, true
			case "text/csv":
				f, explicit = suivi.FormatCSV, true
			case "*/*", "application/*":
				f = suivi.FormatJSON
			case "text/*":
				f = suivi.FormatCSV
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

// send writes body, in format, with status 200.
func send(w http.ResponseWriter, format, filename string, body []byte) error {
	h := w.Header()
	if format == suivi.FormatCSV {
		h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
		h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
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
