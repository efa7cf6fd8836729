// Package soap is the connector's SOAP 1.1 face, the one Apogée's
// registration chains call: operations consulterBoursier (one lookup) and
// consulterBoursiers (a batch re-check of up to 1,000 identifiers of one
// year, one query), document/literal wrapped, described by the WSDL of
// package wsdl and served at /ws/connecteur (GET ?wsdl for the WSDL, POST
// for the lookups).
//
// The envelope is read token by token, strictly, by a hand-written
// tokenizer (scan.go) that accepts exactly what encoding/xml's strict
// decoder accepts, without its allocations: no DOCTYPE (so no external or
// expanding entity), UTF-8 only, one Envelope in the SOAP 1.1 namespace, an
// optional Header whose mustUnderstand blocks are refused, one Body holding
// one element, dispatched on its qualified name. The request's fields are
// decoded by hand, with a precise message for each mistake; the lookup
// itself is validated by the domain (bourse.Saisie, bourse.Lot).
//
// Answers and faults are written by hand, in the shape of the types gowsdl
// generated (package wsconnecteur, which the tests read them back into),
// with literal soap: prefixes, since encoding/xml cannot choose prefixes.
// Every fault carries a connecteurFault detail whose code is the error
// kind's web.Kind.SOAPKey, so REST and SOAP agree; so does the erreur of an
// identifier a batch refused.
//
// HTTP statuses: 200 for an answer (every statut, INCONNU included); 500 for
// every fault, soap:Client and soap:Server alike, as WS-I Basic Profile
// requires; except the statuses HTTP clients act on before reading a body,
// which keep their meaning and still carry a soap:Client fault: 413 (body
// too large), 415 (content type other than text/xml), 405 (method other
// than GET or POST), 401, 403 and 429 (from middleware, see WriteFault), and
// 400 for a GET without ?wsdl, which is no SOAP request.
package soap

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// Path is where the service is mounted; the WSDL's soap:address points
// there.
const Path = "/ws/connecteur"

// hardMaxBody caps the body even when no web.LimitBody stands in front of
// the service; the server's own, smaller limit normally fires first.
const hardMaxBody = 1 << 20

// Options configures the SOAP service.
type Options struct {
	// PublicURL is the URL clients reach the service at, without the path,
	// e.g. "https://connecteur.example.fr": the WSDL's soap:address is
	// PublicURL + "/ws/connecteur". Empty: the scheme and host of the request
	// that asks for the WSDL.
	PublicURL string

	// TrustForwardedHeaders makes the WSDL's address follow the
	// X-Forwarded-Proto and X-Forwarded-Host headers of a reverse proxy when
	// PublicURL is empty. Leave it false unless such a proxy sets them: any
	// caller could otherwise choose the address the WSDL advertises.
	TrustForwardedHeaders bool

	// Logger receives the causes of soap:Server faults, at error level, with
	// the request id. Nil: no log.
	Logger *zap.Logger
}

// Service is the SOAP endpoint: an http.Handler for GET ?wsdl and POST.
type Service struct {
	svc     bourse.Consultant
	opts    Options
	log     *zap.Logger
	wsdlDoc []byte // the WSDL with its address rewritten, when PublicURL is set
}

// New returns the SOAP endpoint over svc.
func New(svc bourse.Consultant, opts Options) *Service {
	s := &Service{svc: svc, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.log = s.log.Named("soap")
	if opts.PublicURL != "" {
		s.wsdlDoc = wsdlFor(strings.TrimRight(opts.PublicURL, "/") + Path)
	}
	return s
}

// allow is the Allow header of a 405.
const allow = "GET, HEAD, POST"

// ServeHTTP answers GET /ws/connecteur?wsdl with the WSDL and POST
// /ws/connecteur with a consulterBoursier or consulterBoursiers answer, or
// a fault. A GET without
// ?wsdl gets a soap:Client fault with HTTP 400 (it is no SOAP request; the
// fault says where the WSDL is); any other method a 405 with Allow.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.lookup(w, r)
	case http.MethodGet, http.MethodHead:
		if wantsWSDL(r.URL.RawQuery) {
			s.serveWSDL(w, r)
			return
		}
		web.Annotate(r.Context()).Operation = "soap"
		s.fault(w, r, &protocolError{
			status: http.StatusBadRequest,
			err: web.Errorf(web.MalformedBody, "GET "+Path+" serves only the WSDL, at "+Path+
				"?wsdl; a lookup is a SOAP 1.1 envelope POSTed to "+Path),
		})
	default:
		web.Annotate(r.Context()).Operation = "soap"
		w.Header().Set("Allow", allow)
		s.fault(w, r, web.Errorf(web.MethodNotAllowed, "method "+r.Method+" is not allowed: use POST for a lookup, GET "+Path+"?wsdl for the WSDL"))
	}
}

// wantsWSDL tells whether the query asks for the WSDL: ?wsdl, ?WSDL (any
// case), with or without a value.
func wantsWSDL(q string) bool {
	for q != "" {
		var k string
		k, q, _ = strings.Cut(q, "&")
		k, _, _ = strings.Cut(k, "=")
		if strings.EqualFold(k, "wsdl") {
			return true
		}
	}
	return false
}

// bufPool holds the buffers a request's body is read into and its answer
// written to.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer put back in the pool: a huge body must not
// pin its memory.
const maxPooled = 128 << 10

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooled {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// lookup answers a POSTed envelope.
func (s *Service) lookup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ann := web.Annotate(ctx)
	ann.Operation = "soap"

	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		s.fault(w, r, err)
		return
	}
	if err := checkContentEncoding(r.Header.Values("Content-Encoding")); err != nil {
		s.fault(w, r, err)
		return
	}

	buf := getBuf()
	defer putBuf(buf)
	if r.ContentLength > 0 && r.ContentLength <= web.DefaultMaxBody {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, hardMaxBody)); err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = web.Errorf(web.MalformedBody, "the request body could not be read")
		}
		s.fault(w, r, err)
		return
	}

	req, err := decodeEnvelope(buf.Bytes())
	if req.operation != "" {
		ann.Operation = req.operation
	}
	if err != nil {
		s.fault(w, r, err)
		return
	}
	if req.operation == opLookupBatch {
		s.lookupBatch(w, r, buf, req.batch)
		return
	}
	in := req.saisie
	ann.Identifiant = web.Mask(strings.TrimSpace(in.Identifiant))

	rep, err := s.svc.Consult(ctx, in)
	if err != nil {
		s.fault(w, r, err)
		return
	}
	if rep.Identifiant != "" {
		ann.Identifiant = web.Mask(rep.Identifiant)
	}
	ann.Statut = string(rep.Statut)
	ann.Raison = string(rep.Raison)

	buf.Reset()
	writeResponse(buf, rep)
	writeOK(w, buf)
}

// lookupBatch answers a consulterBoursiers with one batch lookup; buf, the
// request's, receives the answer. The caller's canal becomes
// bourse.CanalLot, the batch re-check's, whatever the face (the server's
// middleware, which sees only the path, said SOAP): the consultation log
// records the batch's lookups as POST /v1/consultations/lot's.
func (s *Service) lookupBatch(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, l bourse.Batch) {
	ctx := r.Context()
	web.Annotate(ctx).Identifiant = strconv.Itoa(len(l.Identifiants)) + " identifiers"
	if ap, ok := bourse.AppelantFrom(ctx); ok {
		ap.Canal = bourse.CanalBatch
		ctx = bourse.WithAppelant(ctx, ap)
	}
	release, err := web.ChargeBatch(ctx, len(l.Identifiants))
	if err != nil {
		s.fault(w, r, err)
		return
	}
	defer release()
	rs, err := s.svc.ConsultBatch(ctx, l)
	if err != nil {
		s.fault(w, r, err)
		return
	}
	buf.Reset()
	writeBatchResponse(buf, l, rs)
	writeOK(w, buf)
}

// writeOK sends the answer in buf.
func writeOK(w http.ResponseWriter, buf *bytes.Buffer) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// contentType is the content type of every answer, fault and WSDL.
const contentType = "text/xml; charset=utf-8"

// WriteFault answers r with err as a SOAP fault: soap:Client for the
// caller's errors, soap:Server (its cause logged, never shown) for the
// others, with the connecteurFault detail and the HTTP status of the
// package comment. Its signature fits the onError of middleware that
// refuses a request before the service sees it (authentication, rate
// limits), so that SOAP callers get a fault they can parse.
func (s *Service) WriteFault(w http.ResponseWriter, r *http.Request, err error) {
	s.fault(w, r, err)
}

// fault writes err as a SOAP fault, annotates the request and logs the
// cause of a soap:Server fault.
func (s *Service) fault(w http.ResponseWriter, r *http.Request, err error) {
	f := toFault(err)
	ctx := r.Context()
	web.Annotate(ctx).Erreur = f.detailCode
	if !f.client {
		s.logCause(ctx, f, err)
	}
	buf := getBuf()
	defer putBuf(buf)
	writeFault(buf, f)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(f.status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Service) logCause(ctx context.Context, f fault, err error) {
	log := s.log.Error
	if ctx.Err() != nil {
		// The caller hung up or timed out: no failure of the service.
		log = s.log.Info
	}
	log("soap fault",
		zap.String("request_id", middleware.GetReqID(ctx)),
		zap.String("operation", web.Annotate(ctx).Operation),
		zap.String("faultcode", f.code),
		zap.String("code", f.detailCode),
		zap.Error(err))
}
