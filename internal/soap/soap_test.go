package soap_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/soap")

// repo is a path in the repository.
func repo(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

// Reponse is an answer with the SPEC §3 field names, as cases.json writes
// it; fields that do not apply are empty.
type Reponse = rest.Reponse

// Case is one lookup of testdata/cases.json and its expected answer.
type Case = testutil.Case

// Saisie is a lookup as it travels in cases.json.
type Saisie = testutil.Saisie

// env is a SOAP service over a real, migrated PostgreSQL that holds
// testdata/extract.jsonl, behind the server's body limit.
type env struct {
	url  string // the endpoint, .../ws/connecteur
	base string // the server's root URL
	pool *pgxpool.Pool
}

func newEnv(t *testing.T, opts soap.Options) *env {
	t.Helper()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, repo("testdata", "extract.jsonl"))
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	}
	svc := &bourse.Service{Store: postgres.NewStore(pool)}
	srv := httptest.NewServer(web.LimitBody(web.DefaultMaxBody)(soap.New(svc, opts)))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL + soap.Path, base: srv.URL, pool: pool}
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return reply{res.StatusCode, res.Header, b}
}

const textXML = "text/xml; charset=utf-8"

// envelope wraps body in a SOAP 1.1 envelope; the prefix c is the
// service's namespace.
func envelope(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:aglae-connector:connecteur:1">` +
		`<soap:Body>` + body + `</soap:Body></soap:Envelope>`)
}

// lookup is an envelope whose consulterBoursier holds fields.
func lookup(fields string) []byte {
	return envelope("<c:consulterBoursier>" + fields + "</c:consulterBoursier>")
}

// Fault is a SOAP 1.1 fault as a client reads it.
type Fault struct {
	Code   string                       `xml:"faultcode"`
	String string                       `xml:"faultstring"`
	Detail wsconnecteur.ConnecteurFault `xml:"detail>connecteurFault"`
}

type faultEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Fault *Fault `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// parseFault reads the fault of a fault envelope, and checks the envelope
// is what every client expects: text/xml, the soap prefix declared, the
// fault's children unqualified.
func parseFault(t testing.TB, r reply) Fault {
	t.Helper()
	assert.Equal(t, "text/xml; charset=utf-8", r.header.Get("Content-Type"))
	var env faultEnvelope
	require.NoError(t, xml.Unmarshal(r.body, &env), "%s", r.body)
	require.NotNil(t, env.Body.Fault, "no fault in %s", r.body)
	assert.Contains(t, string(r.body), `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`)
	assert.Contains(t, string(r.body), `<faultcode>`+env.Body.Fault.Code+`</faultcode>`)
	assert.Equal(t, "urn:aglae-connector:connecteur:1", env.Body.Fault.Detail.XMLName.Space, "%s", r.body)
	return *env.Body.Fault
}

// responseEnvelope is an answer as a client reads it.
type responseEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Response *wsconnecteur.ConsulterBoursierResponse
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// parseResponse reads an answer into the form cases.json uses.
func parseResponse(t testing.TB, r reply) Reponse {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "text/xml; charset=utf-8", r.header.Get("Content-Type"))
	var env responseEnvelope
	require.NoError(t, xml.Unmarshal(r.body, &env), "%s", r.body)
	require.NotNil(t, env.Body.Response, "no answer in %s", r.body)
	require.NotNil(t, env.Body.Response.Reponse, "no reponse in %s", r.body)
	return testutil.FromSOAP(env.Body.Response.Reponse)
}

func TestSeedEnvelopeAnswersBoursier(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	body, err := os.ReadFile(repo("testdata", "soap", "consulterBoursier.xml"))
	require.NoError(t, err)
	// What the README's curl sends.
	got := parseResponse(t, do(t, http.MethodPost, e.url, "text/xml; charset=utf-8", body))
	assert.Equal(t, Reponse{
		Identifiant: "1111037734L", AnneeUniversitaire: 2014, Statut: "BOURSIER", TypeDecision: "CONDITIONNELLE",
		Echelon: "1", NumeroDossier: "2014MON1111037734L", Correspondance: "IDENTIFIANT",
	}, got)
}

// TestAcceptedVariants: envelopes written differently by different clients
// all get the seed's answer.
func TestAcceptedVariants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	const seed = `<c:identifiant>1111037734L</c:identifiant><c:anneeUniversitaire>2014</c:anneeUniversitaire>`
	for _, c := range []struct {
		name, contentType string
		body              []byte
	}{
		{"utf8_bom", textXML, append([]byte{0xEF, 0xBB, 0xBF}, lookup(seed)...)},
		{"no_xml_declaration", textXML, []byte(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
			`<consulterBoursier xmlns="urn:aglae-connector:connecteur:1"><identifiant>1111037734L</identifiant><anneeUniversitaire>2014</anneeUniversitaire></consulterBoursier>` +
			`</soap:Body></soap:Envelope>`)},
		{"content_type_without_charset", "text/xml", lookup(seed)},
		{"content_type_quoted_upper_charset", `text/xml; charset="UTF-8"`, lookup(seed)},
		{"content_type_with_action", `Text/XML;charset=utf-8; action="x"`, lookup(seed)},
		{"fields_reordered", textXML, lookup(`<c:anneeUniversitaire>2014</c:anneeUniversitaire><c:identifiant>1111037734L</c:identifiant>`)},
		{"pretty_printed_values", textXML, lookup("\n  <c:identifiant>\n    1111037734L\n  </c:identifiant>\n  <c:anneeUniversitaire> 2014 </c:anneeUniversitaire>\n")},
		{"plus_sign_year", textXML, lookup(`<c:identifiant>1111037734L</c:identifiant><c:anneeUniversitaire>+2014</c:anneeUniversitaire>`)},
		{"comments_and_cdata", textXML, lookup(`<!-- Apogée --><c:identifiant><![CDATA[1111037734L]]></c:identifiant><c:anneeUniversitaire>20<!-- x -->14</c:anneeUniversitaire>`)},
		{"empty_elements_are_absent", textXML, lookup(seed + `<c:codeEtablissement/><c:nom></c:nom><c:prenom> </c:prenom><c:dateNaissance/>`)},
		{"xsi_nil_is_absent", textXML, lookup(seed + `<c:nom xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>` +
			`<c:prenom xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="1"></c:prenom>` +
			`<c:dateNaissance xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>`)},
		{"date_with_time_zone", textXML, lookup(seed + `<c:nom>Boulet</c:nom><c:prenom>Amandine</c:prenom><c:dateNaissance>1996-11-28+01:00</c:dateNaissance>`)},
		{"header_ignored", textXML, []byte(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:aglae-connector:connecteur:1">` +
			`<soap:Header><t:Trace xmlns:t="urn:x">abc<t:n>1</t:n></t:Trace><t:Opt xmlns:t="urn:x" soap:mustUnderstand="0"/>` +
			`<t:Other xmlns:t="urn:x" soap:mustUnderstand="1" soap:actor="urn:another-node"/></soap:Header>` +
			`<soap:Body><c:consulterBoursier>` + seed + `</c:consulterBoursier></soap:Body></soap:Envelope>`)},
		{"trailing_whitespace_and_comment", textXML, append(lookup(seed), "\n<!-- end -->\n\n"...)},
		{"envelope_attributes", textXML, []byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="">` +
			`<s:Body><consulterBoursier xmlns="urn:aglae-connector:connecteur:1">` + strings.ReplaceAll(seed, "c:", "") + `</consulterBoursier></s:Body></s:Envelope>`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := parseResponse(t, do(t, http.MethodPost, e.url, c.contentType, c.body))
			assert.Equal(t, "BOURSIER", got.Statut)
			assert.Equal(t, "2014MON1111037734L", got.NumeroDossier)
		})
	}
}

// TestAnnotations: the access log learns the operation, the masked
// identifier, the answer and its internal reason, or the fault's code.
func TestAnnotations(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, repo("testdata", "extract.jsonl"))
	h := soap.New(&bourse.Service{Store: postgres.NewStore(pool)}, soap.Options{})
	serve := func(body []byte) (*httptest.ResponseRecorder, *web.Annotations) {
		ctx, ann := web.WithAnnotations(context.Background())
		req := httptest.NewRequest(http.MethodPost, soap.Path, bytes.NewReader(body)).WithContext(ctx)
		req.Header.Set("Content-Type", textXML)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w, ann
	}

	w, ann := serve(lookup(`<c:identifiant>2000000033E</c:identifiant><c:anneeUniversitaire>2025</c:anneeUniversitaire>`))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, web.Annotations{Operation: "consulterBoursier", Identifiant: "2000****33E", Statut: "EN_ATTENTE", Raison: "NON_TRAITE"}, *ann)
	assert.NotContains(t, w.Body.String(), "NON_TRAITE", "the internal reason is never sent")

	w, ann = serve(lookup(`<c:identifiant>1111037734A</c:identifiant>`))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, web.Annotations{Operation: "consulterBoursier", Identifiant: "1111****34A", Erreur: "INVALID_INPUT"}, *ann)

	_, ann = serve([]byte("<x/>"))
	assert.Equal(t, web.Annotations{Operation: "soap", Erreur: "MALFORMED_REQUEST"}, *ann)
}
