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
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// FuzzEnvelope posts arbitrary bodies: the service never panics, and
// answers either an answer (200) or a fault that is not soap:Server, with
// HTTP 500 (the SOAP convention for every fault) or 413. The store is an
// empty one in memory: the fuzzer explores the parser and the validation,
// not PostgreSQL.
func FuzzEnvelope(f *testing.F) {
	seed, err := os.ReadFile(repo("testdata", "soap", "consulterBoursier.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(consulter(seed2014 + identity))
	for _, c := range catalogue() {
		if c.method == "" && c.contentType == "" {
			f.Add(c.body)
		}
	}
	h := web.LimitBody(web.DefaultMaxBody)(soap.New(&bourse.Service{Store: emptyStore{}}, soap.Options{}))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", textXML)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var env responseEnvelope
			if err := xml.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Body.Response == nil || env.Body.Response.Statut == nil {
				t.Fatalf("answer not readable (%v): %s", err, w.Body.Bytes())
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
