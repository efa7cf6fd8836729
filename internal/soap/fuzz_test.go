package soap_test

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// FuzzEnvelope posts arbitrary bodies: the service never panics, and
// answers either an answer (200) or a fault that is not soap:Server, with
// HTTP 500 (the SOAP convention for every fault) or 413. The store is an
// empty one in memory: the fuzzer explores the parser and the validation,
// not PostgreSQL. Every body is also read by the scanner and the envelope
// reader and by their encoding/xml references (soap.CheckScanner,
// soap.CheckDecoder), which must agree.
func FuzzEnvelope(f *testing.F) {
	seed, err := os.ReadFile(repo("testdata", "soap", "consulterBoursier.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(lookup(seed2014 + identity))
	f.Add(batch(`<c:anneeUniversitaire>2025</c:anneeUniversitaire><c:codeEtablissement>0781944P</c:codeEtablissement>` + ids("2000000011F", "2024MON2000000011F", "1111037734A", "")))
	if seed, err := os.ReadFile(repo("testdata", "soap", "consulterBoursiers.xml")); err == nil {
		f.Add(seed)
	}
	for _, c := range catalogue() {
		if c.method == "" && c.contentType == "" {
			f.Add(c.body)
		}
	}
	h := web.LimitBody(web.DefaultMaxBody)(soap.New(&bourse.Service{Store: emptyBatchStore{}}, soap.Options{}))
	f.Fuzz(func(t *testing.T, body []byte) {
		soap.CheckScanner(t, bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")))
		soap.CheckDecoder(t, body)
		req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", textXML)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var env struct {
				Body struct {
					Response      *wsconnecteur.ConsulterBoursierResponse
					BatchResponse *wsconnecteur.ConsulterBoursiersResponse
				} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
			}
			err := xml.Unmarshal(w.Body.Bytes(), &env)
			switch r, l := env.Body.Response, env.Body.BatchResponse; {
			case err != nil || (r == nil) == (l == nil):
				t.Fatalf("answer not readable (%v): %s", err, w.Body.Bytes())
			case r != nil && (r.Reponse == nil || r.Reponse.Statut == nil || r.Reponse.Erreur != nil):
				t.Fatalf("answer without statut or with an erreur: %s", w.Body.Bytes())
			case l != nil:
				if len(l.Reponse) == 0 || len(l.Reponse) > bourse.MaxBatch {
					t.Fatalf("batch answer of %d: %s", len(l.Reponse), w.Body.Bytes())
				}
				for _, x := range l.Reponse {
					if (x.Statut == nil) == (x.Erreur == nil) {
						t.Fatalf("batch answer with both or neither statut and erreur: %s", w.Body.Bytes())
					}
				}
			}
		case http.StatusInternalServerError, http.StatusRequestEntityTooLarge:
			var env faultEnvelope
			if err := xml.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Body.Fault == nil {
				t.Fatalf("fault not readable (%v): %s", err, w.Body.Bytes())
			}
			if env.Body.Fault.Code == "soap:Server" {
				t.Fatalf("soap:Server fault for %q: %s", body, w.Body.Bytes())
			}
		default:
			t.Fatalf("HTTP %d for %q: %s", w.Code, body, w.Body.Bytes())
		}
	})
}
