package soap_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// golden compares got with testdata/soap/name byte for byte; -update
// rewrites the file.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := repo("testdata", "soap", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run `go test ./internal/soap -run Golden -update` to create it")
	assert.Equal(t, string(want), string(got))
}

// TestGoldenResponse: the answer to each example request of testdata/soap
// is its golden file, byte for byte.
func TestGoldenResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	for _, op := range []string{"consulterBoursier", "consulterBoursiers"} {
		t.Run(op, func(t *testing.T) {
			body, err := os.ReadFile(repo("testdata", "soap", op+".xml"))
			require.NoError(t, err)
			r := do(t, http.MethodPost, e.url, textXML, body)
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			golden(t, op+"Response.golden.xml", r.body)
		})
	}
}

func TestGoldenFault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	r := do(t, http.MethodPost, e.url, textXML, lookup(`<c:identifiant>1111037734A</c:identifiant><c:anneeUniversitaire>2014</c:anneeUniversitaire>`))
	require.Equal(t, http.StatusInternalServerError, r.status, "%s", r.body)
	golden(t, "fault-invalid-identifiant.golden.xml", r.body)
}

// TestEncodeResponse: every field of a full answer travels, in the WSDL's
// order, and reads back into the generated type; the internal reason never
// does; text is escaped.
func TestEncodeResponse(t *testing.T) {
	t.Parallel()
	rep := bourse.Reponse{
		Identifiant: "2025D12345K", AnneeUniversitaire: 2025, Statut: bourse.StatutBoursier,
		TypeDecision: bourse.TypeConditionnelle, Echelon: "0bis", NumeroDossier: "2025VER2000000111P",
		Correspondance: bourse.ByIdentity, IdentifiantAglae: "2000000111P", Anomalie: bourse.AnomalieIdentiteDifferente,
		Raison: bourse.RaisonProgressionAVerifier,
	}
	var b bytes.Buffer
	soap.EncodeResponse(&b, rep)
	assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+
		`<consulterBoursierResponse xmlns="urn:aglae-connector:connecteur:1"><reponse>`+
		`<identifiant>2025D12345K</identifiant><anneeUniversitaire>2025</anneeUniversitaire><statut>BOURSIER</statut>`+
		`<typeDecision>CONDITIONNELLE</typeDecision><echelon>0bis</echelon><numeroDossier>2025VER2000000111P</numeroDossier>`+
		`<correspondance>IDENTITE</correspondance><identifiantAglae>2000000111P</identifiantAglae><anomalie>IDENTITE_DIFFERENTE</anomalie>`+
		`</reponse></consulterBoursierResponse></soap:Body></soap:Envelope>`+"\n", b.String())
	assert.NotContains(t, b.String(), "PROGRESSION")

	var env responseEnvelope
	require.NoError(t, xml.Unmarshal(b.Bytes(), &env))
	want := soap.ToResponse(rep)
	want.XMLName = xml.Name{Space: "urn:aglae-connector:connecteur:1", Local: "consulterBoursierResponse"}
	assert.Equal(t, *want, *env.Body.Response)

	// An answer with nothing but the statut.
	b.Reset()
	soap.EncodeResponse(&b, bourse.Reponse{AnneeUniversitaire: 2025, Statut: bourse.StatutInconnu, Raison: bourse.RaisonIdentiteAmbigue})
	assert.Contains(t, b.String(), `<consulterBoursierResponse xmlns="urn:aglae-connector:connecteur:1"><reponse><anneeUniversitaire>2025</anneeUniversitaire><statut>INCONNU</statut></reponse></consulterBoursierResponse>`)

	// Escaping: values are data, and the output stays well-formed whatever they hold.
	b.Reset()
	soap.EncodeResponse(&b, bourse.Reponse{Identifiant: "<a>&\"'\x00\xff\r\n", AnneeUniversitaire: 2025, Statut: bourse.StatutInconnu})
	require.NoError(t, xml.Unmarshal(b.Bytes(), &env))
	assert.Equal(t, "<a>&\"'\uFFFD\uFFFD\r\n", env.Body.Response.Reponse.Identifiant)
}

// failing is a Consultant that fails.
type failing struct{ err error }

func (f failing) ConsultBatch(context.Context, bourse.Batch) ([]bourse.BatchReponse, error) {
	return nil, f.err
}

func (f failing) Consult(context.Context, bourse.Saisie) (bourse.Reponse, error) {
	return bourse.Reponse{}, f.err
}

// emptyStore is a Store that knows no dossier.
type emptyStore struct{}

func (emptyStore) Dossiers(context.Context, bourse.Query) (byIdentifiant, byIdentity []bourse.Dossier, err error) {
	return nil, nil, nil
}

func (emptyStore) DossiersBatch(context.Context, int, []string) (map[string][]bourse.Dossier, error) {
	return nil, nil
}

// TestServerFaults: a failure is a soap:Server fault with a generic
// faultstring, logged at error level with the request id, never shown.
func TestServerFaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, faultstring, code, message string
		err                              error
	}{
		{"unavailable", "service temporarily unavailable", "UNAVAILABLE", "the service is temporarily unavailable, retry later",
			bourse.Unavailable("dossiers", errors.New("dial unix /tmp/.s.PGSQL.5432: connect: no such file or directory"))},
		{"internal", "internal error", "INTERNAL", "internal error; the request id identifies it in the service's log",
			bourse.Internal("dossiers", errors.New("scan: cannot scan NULL into *string"))},
		{"unknown_error", "internal error", "INTERNAL", "internal error; the request id identifies it in the service's log",
			errors.New("unix /tmp/.s.PGSQL.5432 went away")},
	} {
		t.Run(c.name, func(t *testing.T) {
			core, logs := observer.New(zap.InfoLevel)
			h := soap.New(failing{c.err}, soap.Options{Logger: zap.New(core)})
			ctx := context.WithValue(context.Background(), middleware.RequestIDKey, "REQ42")
			ctx, ann := web.WithAnnotations(ctx)
			req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(lookup(seed2014))).WithContext(ctx)
			req.Header.Set("Content-Type", textXML)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)

			r := reply{w.Code, w.Header(), w.Body.Bytes()}
			assert.Equal(t, http.StatusInternalServerError, r.status)
			f := parseFault(t, r)
			assert.Equal(t, Fault{Code: "soap:Server", String: c.faultstring,
				Detail: wsconnecteur.ConnecteurFault{XMLName: f.Detail.XMLName, Code: c.code, Message: c.message}}, f)
			assert.NotContains(t, w.Body.String(), "PGSQL")
			assert.NotContains(t, w.Body.String(), "scan")
			assert.Equal(t, c.code, ann.Erreur)
			assert.Equal(t, "consulterBoursier", ann.Operation)

			require.Equal(t, 1, logs.Len())
			entry := logs.All()[0]
			assert.Equal(t, zap.ErrorLevel, entry.Level)
			fields := entry.ContextMap()
			assert.Equal(t, "REQ42", fields["request_id"])
			assert.Equal(t, "soap:Server", fields["faultcode"])
			assert.Contains(t, fields["error"], c.err.Error())
			for k, v := range fields {
				assert.NotContains(t, v, "1111037734L", "identifier in clear in the log field %s", k)
			}
		})
	}
}

// TestClientFaultsAreNotLogged: the caller's mistakes go to the access log
// through the annotations, not to the error log.
func TestClientFaultsAreNotLogged(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	h := soap.New(&bourse.Service{Store: emptyStore{}}, soap.Options{Logger: zap.New(core)})
	req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(lookup(`<c:identifiant>1111037734A</c:identifiant>`)))
	req.Header.Set("Content-Type", textXML)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, w.Body.String(), "<faultcode>soap:Client</faultcode>")
	assert.Zero(t, logs.Len())
}

// TestWriteFaultKeepsTransportStatuses: errors middleware raises in front
// of the service (authentication, rate limits) keep the HTTP status clients
// act on, with a soap:Client fault they can parse.
func TestWriteFaultKeepsTransportStatuses(t *testing.T) {
	t.Parallel()
	h := soap.New(&bourse.Service{Store: emptyStore{}}, soap.Options{})
	for _, c := range []struct {
		kind   web.Kind
		status int
	}{
		{web.Kind{Status: http.StatusUnauthorized, Type: "unauthorized", Client: true, SOAPKey: "UNAUTHORIZED"}, http.StatusUnauthorized},
		{web.Kind{Status: http.StatusTooManyRequests, Type: "too-many-requests", Client: true, SOAPKey: "TOO_MANY_REQUESTS"}, http.StatusTooManyRequests},
		{web.NotFound, http.StatusInternalServerError},
	} {
		t.Run(c.kind.SOAPKey, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.WriteFault(w, httptest.NewRequest(http.MethodPost, soap.Path, nil), web.Errorf(c.kind, "refused"))
			assert.Equal(t, c.status, w.Code)
			f := parseFault(t, reply{w.Code, w.Header(), w.Body.Bytes()})
			assert.Equal(t, Fault{Code: "soap:Client", String: "refused",
				Detail: wsconnecteur.ConnecteurFault{XMLName: f.Detail.XMLName, Code: c.kind.SOAPKey, Message: "refused"}}, f)
		})
	}
}
