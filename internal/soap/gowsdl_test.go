package soap_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	gowsdl "github.com/hooklift/gowsdl/soap"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

// recorder is an HTTP client that keeps the last request body it sent.
type recorder struct {
	mu   sync.Mutex
	last []byte
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.last = b
	r.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func (r *recorder) Last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.last)
}

// toRequest builds the generated request of a case, as a Go client would.
func toRequest(t *testing.T, s Saisie) *wsconnecteur.ConsulterBoursier {
	r := &wsconnecteur.ConsulterBoursier{
		Identifiant:        s.Identifiant,
		AnneeUniversitaire: int32(s.Annee),
		CodeEtablissement:  s.CodeEtablissement,
		Nom:                s.Nom,
		Prenom:             s.Prenom,
	}
	if s.DateNaissance != "" {
		d, err := time.Parse(time.DateOnly, s.DateNaissance)
		require.NoError(t, err)
		r.DateNaissance = gowsdl.CreateXsdDate(d, false)
	}
	return r
}

// TestCasesThroughGowsdlClient calls every case of testdata/cases.json
// through the client gowsdl generated from the WSDL.
func TestCasesThroughGowsdlClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	rec := &recorder{}
	client := wsconnecteur.NewConnecteurPortType(gowsdl.NewClient(e.url, gowsdl.WithHTTPClient(rec)))
	for _, c := range testutil.LoadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			got, err := client.ConsulterBoursierContext(context.Background(), toRequest(t, c.Saisie))
			require.NoError(t, err, "request: %s", rec.Last())
			require.NotNil(t, got.Reponse)
			assert.Equal(t, c.Want, testutil.FromSOAP(got.Reponse))
		})
	}
}

// TestGowsdlClientAbsentFields: gowsdl's client leaves out an absent
// dateNaissance entirely (soap.XSDDate's MarshalXML writes nothing for the
// zero date), like every other zero field (omitempty); the server answers.
// An empty <dateNaissance/>, what other clients send, is absent too (see
// TestAcceptedVariants).
func TestGowsdlClientAbsentFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	rec := &recorder{}
	client := wsconnecteur.NewConnecteurPortType(gowsdl.NewClient(e.url, gowsdl.WithHTTPClient(rec)))
	got, err := client.ConsulterBoursierContext(context.Background(), &wsconnecteur.ConsulterBoursier{Identifiant: "1111037734L", AnneeUniversitaire: 2014})
	require.NoError(t, err)
	require.NotNil(t, got.Reponse)
	assert.Equal(t, wsconnecteur.StatutBOURSIER, *got.Reponse.Statut)
	sent := rec.Last()
	assert.Equal(t, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+
		`<consulterBoursier xmlns="urn:aglae-connector:connecteur:1"><identifiant>1111037734L</identifiant>`+
		`<anneeUniversitaire>2014</anneeUniversitaire></consulterBoursier></soap:Body></soap:Envelope>`, sent)
}

// TestGowsdlClientSeesFault: gowsdl's client reports a fault, sent with
// HTTP 500 as WS-I requires, as an *HTTPError whose body is the fault.
func TestGowsdlClientSeesFault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	client := wsconnecteur.NewConnecteurPortType(gowsdl.NewClient(e.url, gowsdl.WithHTTPClient(http.DefaultClient)))
	_, err := client.ConsulterBoursierContext(context.Background(), &wsconnecteur.ConsulterBoursier{Identifiant: "1111037734A"})
	var he *gowsdl.HTTPError
	require.True(t, errors.As(err, &he), "%v", err)
	assert.Equal(t, http.StatusInternalServerError, he.StatusCode)
	f := parseFault(t, reply{he.StatusCode, http.Header{"Content-Type": {"text/xml; charset=utf-8"}}, he.ResponseBody})
	assert.Equal(t, "soap:Client", f.Code)
	assert.Equal(t, "INVALID_INPUT", f.Detail.Code)
	assert.Contains(t, f.String, "identifiant: key")
}
