package soap_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/soap"
)

var seedAnswer = bourse.Reponse{
	Identifiant: "1111037734L", AnneeUniversitaire: 2014, Statut: bourse.StatutBoursier,
	TypeDecision: bourse.TypeConditionnelle, Echelon: "1", NumeroDossier: "2014MON1111037734L",
	Correspondance: bourse.ByIdentifiant, Raison: bourse.RaisonConditionnelle,
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	body, err := os.ReadFile(repo("testdata", "soap", "consulterBoursier.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := soap.DecodeEnvelope(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeResponse(b *testing.B) {
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		soap.EncodeResponse(&buf, seedAnswer)
	}
	b.SetBytes(int64(buf.Len()))
}

// constant answers every lookup with the seed's answer.
type constant struct{}

func (constant) Consult(context.Context, bourse.Saisie) (bourse.Reponse, error) {
	return seedAnswer, nil
}

func (constant) ConsultBatch(_ context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	out := make([]bourse.BatchReponse, len(l.Identifiants))
	for i := range out {
		out[i].Reponse = seedAnswer
	}
	return out, nil
}

// BenchmarkServeHTTP is the whole SOAP handling of a lookup but the
// database: content type, body, envelope, answer.
func BenchmarkServeHTTP(b *testing.B) {
	body, err := os.ReadFile(repo("testdata", "soap", "consulterBoursier.xml"))
	if err != nil {
		b.Fatal(err)
	}
	h := soap.New(constant{}, soap.Options{})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Body.String())
		}
	}
}
