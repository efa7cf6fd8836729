package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// fakeConsultant validates a saisie as the service does and answers from
// memory. For handler benchmarks only: every behaviour the database
// decides is tested on the database.
type fakeConsultant struct{}

var fakeAnswer = bourse.Reponse{
	AnneeUniversitaire: 2014, Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Echelon: "1",
	NumeroDossier: "2014MON1111037734L", Correspondance: bourse.ByIdentifiant, Raison: bourse.RaisonConditionnelle,
}

func (fakeConsultant) Consult(_ context.Context, in bourse.Saisie) (bourse.Reponse, error) {
	d, err := in.Validate(2014)
	if err != nil {
		return bourse.Reponse{}, err
	}
	r := fakeAnswer
	r.Identifiant = d.Identifiant
	r.AnneeUniversitaire = d.Annee
	return r, nil
}

// discard is a reusable ResponseWriter, so that the benchmarks measure
// the handlers rather than httptest.ResponseRecorder.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }
func (d *discard) reset()                      { clear(d.h); d.status = 0 }

func benchRouter() http.Handler {
	r := chi.NewRouter()
	r.Use(web.LimitBody(web.DefaultMaxBody))
	r.NotFound(rest.NotFoundHandler())
	r.MethodNotAllowed(rest.MethodNotAllowedHandler())
	rest.New(fakeConsultant{}, rest.Options{}).Mount(r)
	return r
}

// bareHandler is the reference: a plain net/http handler on a ServeMux,
// the same fake service, encoding/json, no checks.
func bareHandler() http.Handler {
	mux := http.NewServeMux()
	svc := fakeConsultant{}
	mux.HandleFunc("GET /v1/boursiers/{identifiant}", func(w http.ResponseWriter, r *http.Request) {
		rep, err := svc.Consult(r.Context(), bourse.Saisie{Identifiant: r.PathValue("identifiant")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rest.ToReponse(rep))
	})
	return mux
}

func benchGet(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/v1/boursiers/1111037734L?annee=2014", nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkGetBoursier is the simple lookup through chi and the REST
// face, on a fake service.
func BenchmarkGetBoursier(b *testing.B) { benchGet(b, benchRouter()) }

// BenchmarkGetBoursierBare is the same lookup through a bare net/http
// handler: the reference for BenchmarkGetBoursier.
func BenchmarkGetBoursierBare(b *testing.B) {
	req := httptest.NewRequest(http.MethodGet, "/v1/boursiers/1111037734L", nil)
	h := bareHandler()
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
}

// BenchmarkPostConsultation is the full lookup, with an identity.
func BenchmarkPostConsultation(b *testing.B) {
	h := benchRouter()
	const body = `{"identifiant":"1111037734L","anneeUniversitaire":2014,"codeEtablissement":"0781944P",` +
		`"nom":"Boulet","prenom":"Amandine","dateNaissance":"1996-11-28"}`
	w := &discard{h: http.Header{}}
	rd := strings.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/v1/consultations", nil)
	req.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkProblem is a refused lookup (wrong key).
func BenchmarkProblem(b *testing.B) {
	h := benchRouter()
	req := httptest.NewRequest(http.MethodGet, "/v1/boursiers/1111037734A", nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
		if w.status != http.StatusBadRequest {
			b.Fatalf("status %d", w.status)
		}
	}
}

// benchServer measures requests per second over loopback TCP, with
// parallel keep-alive clients, the figure a load test sees.
func benchServer(b *testing.B, h http.Handler, path string) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var failed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(srv.URL + path)
			if err != nil {
				failed.Add(1)
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
		}
	})
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
}

func BenchmarkServerGetBoursier(b *testing.B) {
	benchServer(b, benchRouter(), "/v1/boursiers/1111037734L?annee=2014")
}

func BenchmarkServerGetBoursierBare(b *testing.B) {
	benchServer(b, bareHandler(), "/v1/boursiers/1111037734L")
}

// benchBody posts body to path and expects status.
func benchBody(b *testing.B, path, body string, status int) {
	h := benchRouter()
	w := &discard{h: http.Header{}}
	rd := strings.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, path, nil)
	req.Header.Set("Content-Type", "application/json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		h.ServeHTTP(w, req)
		if w.status != status {
			b.Fatalf("status %d", w.status)
		}
	}
}

// hostile is a body of 64 KB repeating one member: {"a":0,"a":0,…}. Every
// member is unknown and a duplicate; it must cost well under a millisecond.
func hostile(member string) string {
	var sb strings.Builder
	sb.WriteString("{" + member)
	for sb.Len()+len(member)+2 < web.DefaultMaxBody {
		sb.WriteString("," + member)
	}
	sb.WriteString("}")
	return sb.String()
}

// BenchmarkRepeatedUnknownMember is the 64 KB body {"a":0,"a":0,…}.
func BenchmarkRepeatedUnknownMember(b *testing.B) {
	benchBody(b, "/v1/consultations", hostile(`"a":0`), http.StatusBadRequest)
}

// BenchmarkRepeatedField is the 64 KB body {"nom":"x","nom":"x",…}.
func BenchmarkRepeatedField(b *testing.B) {
	benchBody(b, "/v1/consultations", hostile(`"nom":"x"`), http.StatusBadRequest)
}

// BenchmarkBatchRepeatedUnknownMember is {"a":0,"a":0,…} on the batch route.
func BenchmarkBatchRepeatedUnknownMember(b *testing.B) {
	benchBody(b, "/v1/consultations/lot", hostile(`"a":0`), http.StatusBadRequest)
}

func (fakeConsultant) ConsultBatch(ctx context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	out := make([]bourse.BatchReponse, len(l.Identifiants))
	for i, id := range l.Identifiants {
		out[i].Reponse, out[i].Err = fakeConsultant{}.Consult(ctx, bourse.Saisie{Identifiant: id, Annee: l.Annee})
	}
	return out, nil
}
