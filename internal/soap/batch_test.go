package soap_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gowsdl "github.com/hooklift/gowsdl/soap"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// batch is an envelope whose consulterBoursiers holds fields.
func batch(fields string) []byte {
	return envelope("<c:consulterBoursiers>" + fields + "</c:consulterBoursiers>")
}

// ids writes an identifiant element for each identifier.
func ids(identifiants ...string) string {
	var b strings.Builder
	for _, id := range identifiants {
		b.WriteString("<c:identifiant>" + id + "</c:identifiant>")
	}
	return b.String()
}

// batchCases are the cases of testdata/cases.json a batch can ask: an
// identifier of 2025 and no identity.
func batchCases(t *testing.T) []Case {
	var out []Case
	for _, c := range testutil.LoadCases(t) {
		if c.Saisie.Identifiant != "" && c.Saisie.Nom == "" && c.Saisie.Prenom == "" && c.Saisie.DateNaissance == "" && c.Saisie.Annee == 2025 {
			out = append(out, c)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestBatchThroughGowsdlClient asks every 2025 identifier of
// testdata/cases.json, and an invalid one, in one consulterBoursiers
// through the client gowsdl generated: the answers are the single lookups'
// answers, in order; the invalid identifier gets its erreur in its place.
func TestBatchThroughGowsdlClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	rec := &recorder{}
	client := wsconnecteur.NewConnecteurPortType(gowsdl.NewClient(e.url, gowsdl.WithHTTPClient(rec)))
	cases := batchCases(t)
	req := &wsconnecteur.ConsulterBoursiers{AnneeUniversitaire: 2025}
	for _, c := range cases {
		req.Identifiant = append(req.Identifiant, c.Saisie.Identifiant)
	}
	req.Identifiant = append(req.Identifiant, "1111037734M")

	got, err := client.ConsulterBoursiersContext(context.Background(), req)
	require.NoError(t, err, "request: %s", rec.Last())
	assert.Contains(t, rec.Last(), `<consulterBoursiers xmlns="urn:aglae-connector:connecteur:1"><anneeUniversitaire>2025</anneeUniversitaire><identifiant>`)
	require.Len(t, got.Reponse, len(cases)+1)
	for i, c := range cases {
		assert.Nil(t, got.Reponse[i].Erreur, c.Name)
		assert.Equal(t, c.Want, testutil.FromSOAP(got.Reponse[i]), c.Name)
	}
	last := got.Reponse[len(cases)]
	require.NotNil(t, last.Erreur)
	assert.Equal(t, "1111037734M", last.Identifiant)
	assert.Nil(t, last.Statut)
	assert.Equal(t, "INVALID_INPUT", last.Erreur.Code)
	assert.Contains(t, last.Erreur.Message, "identifiant: key:")
}

// TestBatchPerIdentifierErrors: an identifier the domain refuses alone (a
// dossier number of another year, a bad key, an empty element) gets an
// erreur in its place; the others are answered.
func TestBatchPerIdentifierErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	r := do(t, http.MethodPost, e.url, textXML, batch(`<c:anneeUniversitaire>2025</c:anneeUniversitaire>`+
		ids("2024MON2000000011F", "2000000011F", "1111037734A", "")))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	got := parseBatchResponse(t, r)
	require.Len(t, got.Reponse, 4)
	for i, want := range []string{
		"anneeUniversitaire: 2025 contradicts the year 2024 of the dossier number",
		"",
		"identifiant: key:",
		"identifiant: empty identifier",
	} {
		item := got.Reponse[i]
		if want == "" {
			assert.Nil(t, item.Erreur)
			assert.Equal(t, wsconnecteur.StatutBOURSIER, *item.Statut)
			continue
		}
		require.NotNil(t, item.Erreur, "%d", i)
		assert.Equal(t, "INVALID_INPUT", item.Erreur.Code)
		assert.Contains(t, item.Erreur.Message, want)
		assert.Nil(t, item.Statut)
		assert.Zero(t, item.AnneeUniversitaire)
	}
	assert.Equal(t, "2024MON2000000011F", got.Reponse[0].Identifiant, "the identifier as sent")
}

// TestBatchAllRefused: when no identifier can be answered, the answer holds
// only the erreurs: no anneeUniversitaire anywhere.
func TestBatchAllRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	r := do(t, http.MethodPost, e.url, textXML, batch(ids("1111037734A")))
	got := parseBatchResponse(t, r)
	assert.NotContains(t, string(r.body), "<anneeUniversitaire>")
	require.Len(t, got.Reponse, 1)
	assert.Equal(t, "INVALID_INPUT", got.Reponse[0].Erreur.Code)
}

// TestBatchBounds: 1,000 identifiers are one batch (they do not count
// among the 256 elements of an envelope); 1,001 are refused.
func TestBatchBounds(t *testing.T) {
	t.Parallel()
	many := func(n int) []byte {
		return batch(`<c:anneeUniversitaire>2025</c:anneeUniversitaire>` + strings.Repeat(`<c:identifiant> 2000000011F </c:identifiant>`, n))
	}
	l, op, err := soap.DecodeBatch(many(bourse.MaxBatch))
	require.NoError(t, err)
	assert.Equal(t, "consulterBoursiers", op)
	assert.Equal(t, 2025, l.Annee)
	require.Len(t, l.Identifiants, bourse.MaxBatch)
	assert.Equal(t, "2000000011F", l.Identifiants[999])
	assert.Less(t, len(many(bourse.MaxBatch+1)), web.DefaultMaxBody, "the catalogue's 1,001 identifiers fit the body limit")

	_, _, err = soap.DecodeBatch(many(bourse.MaxBatch + 1))
	k, detail := web.Classify(err)
	assert.Equal(t, "INVALID_INPUT", k.SOAPKey)
	assert.Contains(t, detail, "at most 1000")

	// The other elements keep their bound.
	_, _, err = soap.DecodeBatch(batch(strings.Repeat(`<c:codeEtablissement/>`, 300)))
	require.Error(t, err)
}

// TestBatchDecoding: the batch's fields are read like the single lookup's:
// in any order, white space trimmed, empty or nil optional fields absent,
// empty or nil identifiers kept in their place.
func TestBatchDecoding(t *testing.T) {
	t.Parallel()
	l, op, err := soap.DecodeBatch(batch(`<c:identifiant>a</c:identifiant><c:codeEtablissement> 0781944P </c:codeEtablissement>` +
		`<c:identifiant/><c:anneeUniversitaire>2025</c:anneeUniversitaire>` +
		`<c:identifiant xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/><c:identifiant>&#x62;<![CDATA[c]]></c:identifiant>`))
	require.NoError(t, err)
	assert.Equal(t, "consulterBoursiers", op)
	assert.Equal(t, bourse.Batch{Annee: 2025, CodeEtablissement: "0781944P", Identifiants: []string{"a", "", "", "bc"}}, l)

	l, _, err = soap.DecodeBatch(batch(`<c:anneeUniversitaire/><c:codeEtablissement xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="1"/>` + ids("x")))
	require.NoError(t, err)
	assert.Equal(t, bourse.Batch{Identifiants: []string{"x"}}, l)
}

// parseBatchResponse reads a batch answer.
func parseBatchResponse(t testing.TB, r reply) *wsconnecteur.ConsulterBoursiersResponse {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "text/xml; charset=utf-8", r.header.Get("Content-Type"))
	var env struct {
		XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
		Body    struct {
			Response *wsconnecteur.ConsulterBoursiersResponse
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	require.NoError(t, xml.Unmarshal(r.body, &env), "%s", r.body)
	require.NotNil(t, env.Body.Response, "no answer in %s", r.body)
	return env.Body.Response
}

// TestEncodeBatchResponse: answers and erreurs in order, every field of an
// answer (with its year), the internal reason never; a refused identifier
// has its erreur and no year.
func TestEncodeBatchResponse(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	soap.EncodeBatchResponse(&b, bourse.Batch{Identifiants: []string{"2000000111P", "<x>"}}, []bourse.BatchReponse{
		{Reponse: bourse.Reponse{Identifiant: "2000000111P", AnneeUniversitaire: 2025, Statut: bourse.StatutBoursier,
			TypeDecision: bourse.TypeDefinitive, Echelon: "7", NumeroDossier: "2025VER2000000111P", Correspondance: bourse.ByIdentifiant,
			Raison: bourse.RaisonProgressionAVerifier}},
		{Err: bourse.Invalid("identifiant", "length: 3 characters")},
	})
	assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`+
		`<consulterBoursiersResponse xmlns="urn:aglae-connector:connecteur:1">`+
		`<reponse><identifiant>2000000111P</identifiant><anneeUniversitaire>2025</anneeUniversitaire><statut>BOURSIER</statut>`+
		`<typeDecision>DEFINITIVE</typeDecision><echelon>7</echelon><numeroDossier>2025VER2000000111P</numeroDossier>`+
		`<correspondance>IDENTIFIANT</correspondance></reponse>`+
		`<reponse><identifiant>&lt;x&gt;</identifiant><erreur><code>INVALID_INPUT</code><message>identifiant: length: 3 characters</message></erreur></reponse>`+
		`</consulterBoursiersResponse></soap:Body></soap:Envelope>`+"\n", b.String())
}

// TestBatchFaults: a batch the domain refuses as a whole is a soap:Client
// fault; a failure a soap:Server fault.
func TestBatchFaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		svc        bourse.Consultant
		code, kind string
	}{
		{"unavailable", failing{bourse.Unavailable("dossiers", errors.New("connection refused"))}, "soap:Server", "UNAVAILABLE"},
		{"invalid", failing{bourse.Invalid("identifiants", "at most 1000")}, "soap:Client", "INVALID_INPUT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := soap.New(c.svc, soap.Options{})
			ctx, ann := web.WithAnnotations(context.Background())
			req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(batch(ids("2000000011F")))).WithContext(ctx)
			req.Header.Set("Content-Type", textXML)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, http.StatusInternalServerError, w.Code)
			f := parseFault(t, reply{w.Code, w.Header(), w.Body.Bytes()})
			assert.Equal(t, c.code, f.Code)
			assert.Equal(t, c.kind, f.Detail.Code)
			assert.NotContains(t, w.Body.String(), "connection refused")
			assert.Equal(t, "consulterBoursiers", ann.Operation)
			assert.Equal(t, c.kind, ann.Erreur)
		})
	}
}

// TestBatchAnnotations: the access log learns the operation and the
// number of identifiers, never the identifiers.
func TestBatchAnnotations(t *testing.T) {
	t.Parallel()
	h := soap.New(&bourse.Service{Store: emptyBatchStore{}}, soap.Options{})
	ctx, ann := web.WithAnnotations(context.Background())
	req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(batch(ids("2000000011F", "2000000022T")))).WithContext(ctx)
	req.Header.Set("Content-Type", textXML)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, "%s", w.Body)
	assert.Equal(t, web.Annotations{Operation: "consulterBoursiers", Identifiant: "2 identifiers"}, *ann)
}

// emptyBatchStore knows no dossier, one at a time or in batches.
type emptyBatchStore struct{ emptyStore }

func (emptyBatchStore) DossiersBatch(context.Context, int, []string) (map[string][]bourse.Dossier, error) {
	return nil, nil
}

// canalBatch records the canal of the batches it answers.
type canalBatch struct {
	failing
	canal bourse.Canal
}

func (c *canalBatch) ConsultBatch(ctx context.Context, l bourse.Batch) ([]bourse.BatchReponse, error) {
	ap, _ := bourse.AppelantFrom(ctx)
	c.canal = ap.Canal
	return make([]bourse.BatchReponse, len(l.Identifiants)), nil
}

// TestBatchCanal: the lookups of a batch are the batch re-check's (canal
// LOT), as over REST, though the request came to the SOAP endpoint.
func TestBatchCanal(t *testing.T) {
	t.Parallel()
	c := &canalBatch{}
	h := soap.New(c, soap.Options{})
	ctx := bourse.WithAppelant(context.Background(), bourse.Appelant{ClientID: "apogee", Canal: bourse.CanalSOAP})
	req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(batch(ids("2000000011F")))).WithContext(ctx)
	req.Header.Set("Content-Type", textXML)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, "%s", w.Body)
	assert.Equal(t, bourse.CanalBatch, c.canal)
}
