package rest

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/api"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Options configures the REST face.
type Options struct {
	// Logger receives the cause of every 5xx answer, at error level, with
	// the request id. Nil: nothing is logged.
	Logger *zap.Logger
}

// API is the REST face of the connector: the two lookups of SPEC §5 and
// the OpenAPI document that describes them.
type API struct {
	svc bourse.Consultant
	log *zap.Logger
}

// New returns the REST face answering with svc.
func New(svc bourse.Consultant, opts Options) *API {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &API{svc: svc, log: log.Named("rest")}
}

// Operation names, as the access log shows them.
const (
	opGetBoursier      = "GET boursier"
	opPostConsultation = "POST consultation"
	opOpenAPI          = "GET openapi"
)

// Mount registers the routes on r:
//
//	GET  /v1/boursiers/{identifiant}?annee=YYYY   the simple lookup
//	POST /v1/consultations                         the full lookup, JSON body
//	POST /v1/consultations/lot                     up to 1,000 identifiers of one year
//	GET  /openapi.yaml                             the OpenAPI 3 document
func (a *API) Mount(r chi.Router) {
	r.Get("/v1/boursiers/{identifiant}", a.handle(opGetBoursier, a.getBoursier))
	r.Post("/v1/consultations", a.handle(opPostConsultation, a.postConsultation))
	r.Post("/v1/consultations/lot", a.handle(opPostBatch, a.postBatch))
	r.Get("/openapi.yaml", a.handle(opOpenAPI, getOpenAPI))
}

// handlerFunc is an HTTP handler that returns its error instead of
// writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h: it names the operation for the access log and turns
// the error h returns into a problem. A 5xx's cause is logged here, with
// the request id, and never sent to the caller.
func (a *API) handle(op string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		web.Annotate(r.Context()).Operation = op
		err := h(w, r)
		if err == nil {
			return
		}
		if k := writeProblem(w, r, err); k.Status >= 500 {
			a.log.Error("request failed", zap.String("request_id", middleware.GetReqID(r.Context())),
				zap.String("operation", op), zap.Int("status", k.Status), zap.Error(err))
		}
	}
}

// getBoursier answers GET /v1/boursiers/{identifiant}?annee=YYYY.
func (a *API) getBoursier(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "identifiant")
	if r.URL.RawPath != "" {
		// chi routed on the escaped path: the parameter is still escaped.
		u, err := url.PathUnescape(id)
		if err != nil {
			return refused(r, id, bourse.Invalid("identifiant", "malformed percent-encoding in the path"))
		}
		id = u
	}
	annee, err := queryAnnee(r.URL.RawQuery)
	if err != nil {
		return refused(r, id, err)
	}
	rep, err := a.svc.Consult(r.Context(), bourse.Saisie{Identifiant: id, Annee: annee})
	if err != nil {
		// The service speaks of anneeUniversitaire, the body's name; here the
		// caller wrote annee.
		var be *bourse.Error
		if errors.As(err, &be) && be.Field == "anneeUniversitaire" {
			e := *be
			e.Field = "annee"
			err = &e
		}
		return refused(r, id, err)
	}
	return a.answer(w, r, rep)
}

// refused notes the identifier of a failed lookup, masked, for the access
// log, and returns err.
func refused(r *http.Request, id string, err error) error {
	if id != "" {
		web.Annotate(r.Context()).Identifiant = web.Mask(ident.Normalize(id))
	}
	return err
}

// queryAnnee reads the query string of the simple lookup: annee, optional,
// and nothing else.
func queryAnnee(raw string) (int, error) {
	if raw == "" {
		return 0, nil
	}
	if v, ok := strings.CutPrefix(raw, "annee="); ok && len(v) == 4 {
		// The usual case, without url.ParseQuery's map.
		if n, ok := year(v); ok && n > 0 {
			return n, nil
		}
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return 0, web.Errorf(web.InvalidInput, "the query string is malformed: "+err.Error())
	}
	var unknown []string
	identity := false
	for k := range q {
		switch k {
		case "annee":
		case "nom", "prenom", "dateNaissance":
			identity = true
			unknown = append(unknown, quote(k))
		default:
			unknown = append(unknown, quote(clip(k)))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		msg := "unknown query parameter"
		if len(unknown) > 1 {
			msg += "s"
		}
		msg += " " + strings.Join(unknown, ", ")
		if identity {
			msg += ": an identity never travels in a URL, POST it to /v1/consultations"
		} else if len(unknown) == 1 && strings.Contains(strings.ToLower(unknown[0]), "annee") {
			msg += `: did you mean "annee"?`
		} else {
			msg += ": the only one accepted is annee"
		}
		return 0, web.Errorf(web.InvalidInput, msg)
	}
	vs := q["annee"]
	if len(vs) == 0 {
		return 0, nil
	}
	if len(vs) > 1 {
		return 0, bourse.Invalid("annee", "given more than once")
	}
	v := vs[0]
	if v == "" || !isDigits(v) {
		return 0, bourse.Invalid("annee", "must be an integer (a year such as 2025)")
	}
	n, ok := year(v)
	if !ok {
		n = 0 // zero, or too large for an int: out of range
	}
	if err := bourse.ValidateAnnee("annee", n); err != nil {
		return 0, err
	}
	return n, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// postConsultation answers POST /v1/consultations.
func (a *API) postConsultation(w http.ResponseWriter, r *http.Request) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	buf, err := readBody(r)
	if err != nil {
		return err
	}
	in, err := decodeConsultation(*buf)
	putBody(buf)
	if err != nil {
		return err
	}
	rep, err := a.svc.Consult(r.Context(), in)
	if err != nil {
		return refused(r, in.Identifiant, err)
	}
	return a.answer(w, r, rep)
}

// Shared header values: never modified.
var (
	hdrJSON    = []string{"application/json"}
	hdrProblem = []string{"application/problem+json"}
	hdrYAML    = []string{"application/yaml"}
	hdrNoStore = []string{"no-store"}
	hdrNoSniff = []string{"nosniff"}
	hdrRetry   = []string{"1"}
)

// outPool holds the buffers answers are written in.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// answer writes rep with status 200, whatever its statut, and notes it
// for the access log.
func (a *API) answer(w http.ResponseWriter, r *http.Request, rep bourse.Reponse) error {
	ann := web.Annotate(r.Context())
	ann.Identifiant = web.Mask(rep.Identifiant)
	ann.Statut = string(rep.Statut)
	ann.Raison = string(rep.Raison)
	p := outPool.Get().(*[]byte)
	out := appendReponse((*p)[:0], ToReponse(rep))
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore // personal data, and real time
	h["X-Content-Type-Options"] = hdrNoSniff
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	*p = out
	outPool.Put(p)
	return nil
}

// getOpenAPI serves the OpenAPI document of this API.
func getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h["Content-Type"] = hdrYAML
	h["X-Content-Type-Options"] = hdrNoSniff
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(api.OpenAPI)
	return nil
}
