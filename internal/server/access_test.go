package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hooklift/gowsdl/soap"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/server"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

func post(t *testing.T, url, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func soapEnvelope(id string, annee int) string {
	return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
		`<consulterBoursier xmlns="urn:aglae-connector:connecteur:1"><identifiant>` + id + `</identifiant><anneeUniversitaire>` +
		strconv.Itoa(annee) + `</anneeUniversitaire></consulterBoursier></soap:Body></soap:Envelope>`
}

func TestDataEndpointsNeedCredentials(t *testing.T) {
	svc := start(t, nil)
	ctx := context.Background()
	revokedID, revokedSecret := addClient(t, svc.dbURL, auth.NewClient{Nom: "revoked"})
	conn, err := pgx.Connect(ctx, svc.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE connecteur.client SET revoque_le = now() WHERE id = $1`, revokedID)
	require.NoError(t, err)

	json := `{"identifiant":"1111037734L","anneeUniversitaire":2014}`
	for _, cred := range []struct {
		name   string
		header []string
	}{
		{"none", nil},
		{"wrong bearer", []string{"Authorization", "Bearer acx_" + svc.clientID + "_wrongwrongwrongwrongwrongwrongwr"}},
		{"garbage bearer", []string{"Authorization", "Bearer nonsense"}},
		{"wrong basic", []string{"Authorization", "Basic " + basic(svc.clientID, "nope")}},
		{"revoked", []string{"Authorization", "Bearer " + revokedSecret}},
		{"unknown scheme", []string{"Authorization", "Digest x"}},
	} {
		var bodies []string
		for _, r := range []func() (*http.Response, string){
			func() (*http.Response, string) {
				return get(t, svc.base+"/v1/boursiers/1111037734L?annee=2014", cred.header...)
			},
			func() (*http.Response, string) {
				return post(t, svc.base+"/v1/consultations", "application/json", json, cred.header...)
			},
		} {
			res, body := r()
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, cred.name)
			assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer", cred.name)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), cred.name)
			bodies = append(bodies, body[:strings.Index(body, `"instance"`)])
		}
		res, body := post(t, svc.base+"/ws/connecteur", "text/xml; charset=utf-8", soapEnvelope("1111037734L", 2014), cred.header...)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, cred.name)
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic", cred.name)
		assert.Contains(t, body, "UNAUTHORIZED", cred.name)
		// Nothing says which part was wrong: every refusal reads the same.
		assert.Equal(t, bodies[0], bodies[1], cred.name)
		assert.NotContains(t, strings.ToLower(bodies[0]), "revoked")
	}

	// The open endpoints stay open.
	for _, path := range []string{"/healthz", "/readyz", "/ws/connecteur?wsdl", "/openapi.yaml"} {
		res, _ := get(t, svc.base+path)
		assert.Equal(t, http.StatusOK, res.StatusCode, path)
	}
}

func basic(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(id, secret)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// TestEveryTestdataStudentOverRESTAndSOAP goes through the whole service,
// credentials included, and then checks that each answer is in the
// consultation log with its internal reason, and that the application log
// holds no identifier, name or birth date of testdata.
func TestEveryTestdataStudentOverRESTAndSOAP(t *testing.T) {
	var logs logBuffer
	svc := start(t, &logs)
	cases := testutil.LoadCases(t)
	client := soap.NewClient(svc.base+"/ws/connecteur", soap.WithBasicAuth(svc.clientID, svc.secret),
		soap.WithHTTPClient(http.DefaultClient))
	port := wsconnecteur.NewConnecteurPortType(client)

	want := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Saisie.Nom == "" && c.Saisie.Identifiant != "" {
				url := svc.base + "/v1/boursiers/" + strings.ReplaceAll(c.Saisie.Identifiant, " ", "%20")
				if c.Saisie.Annee != 0 {
					url += "?annee=" + strconv.Itoa(c.Saisie.Annee)
				}
				res, body := get(t, url, svc.bearer()...)
				require.Equal(t, http.StatusOK, res.StatusCode, body)
				var got rest.Reponse
				require.NoError(t, json.Unmarshal([]byte(body), &got))
				assert.Equal(t, c.Want, got, "GET")
				want++
			}
			b, err := json.Marshal(c.Saisie)
			require.NoError(t, err)
			res, body := post(t, svc.base+"/v1/consultations", "application/json", string(b), svc.bearer()...)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			var got rest.Reponse
			require.NoError(t, json.Unmarshal([]byte(body), &got))
			assert.Equal(t, c.Want, got, "POST")
			want++

			req := &wsconnecteur.ConsulterBoursier{Identifiant: c.Saisie.Identifiant, AnneeUniversitaire: int32(c.Saisie.Annee),
				Nom: c.Saisie.Nom, Prenom: c.Saisie.Prenom}
			if c.Saisie.DateNaissance != "" {
				d, err := time.Parse(time.DateOnly, c.Saisie.DateNaissance)
				require.NoError(t, err)
				req.DateNaissance = soap.CreateXsdDate(d, false)
			}
			resp, err := port.ConsulterBoursier(req)
			require.NoError(t, err)
			require.NotNil(t, resp.Reponse)
			assert.Equal(t, c.Want, testutil.FromSOAP(resp.Reponse), "SOAP")
			want++
		})
	}

	// Every consultation is in the log, with the reason the engine gave.
	require.NoError(t, svc.main.Close())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, svc.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n, soapN, restN int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE canal = 'SOAP'), count(*) FILTER (WHERE canal = 'REST')
		FROM connecteur.consultation WHERE client_id = $1`, svc.clientID).Scan(&n, &soapN, &restN))
	assert.Equal(t, want, n)
	assert.Equal(t, len(cases), soapN)
	for id, reason := range map[string]string{
		"2000000033E": "NON_TRAITE", "2000000044S": "PIECES_MANQUANTES", "2000000055D": "PROGRESSION_A_VERIFIER",
		"2000000088P": "NON_TRAITE", "2000000099B": "AUCUN_DOSSIER",
	} {
		var reasons []string
		require.NoError(t, conn.QueryRow(ctx, `SELECT array_agg(DISTINCT raison) FROM connecteur.consultation WHERE identifiant = $1`, id).Scan(&reasons))
		assert.Equal(t, []string{reason}, reasons, id)
	}
	var ambiguous, different int
	var uai string
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE raison = 'IDENTITE_AMBIGUE'), count(*) FILTER (WHERE raison = 'IDENTITE_DIFFERENTE'), min(uai)
		FROM connecteur.consultation`).Scan(&ambiguous, &different, &uai))
	assert.Equal(t, 2, ambiguous, "the homonyms case, over POST and SOAP")
	assert.Equal(t, 4, different, "two identity mismatches, over POST and SOAP")
	assert.Equal(t, "0781944P", uai, "the client's establishment")

	// No personal data of testdata in the application log.
	out := logs.String()
	require.Contains(t, out, `"route":"/ws/connecteur"`)
	for _, secret := range personalData(t) {
		assert.NotContains(t, out, secret)
	}
}

// personalData lists every identifier, name and birth date of testdata.
func personalData(t *testing.T) []string {
	b, err := os.ReadFile(testutil.Testdata("extract.jsonl"))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var l struct{ Identifiant, Nom, Prenom, DateNaissance, NumeroDossier string }
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		out = append(out, l.Identifiant, l.NumeroDossier, l.Nom, l.Prenom, l.DateNaissance)
	}
	return append(out, "2025D12345K")
}

func TestRateLimitPerClient(t *testing.T) {
	svc := start(t, nil)
	_, slow := addClient(t, svc.dbURL, auth.NewClient{Nom: "slow", Rate: 0.5, Burst: 2})
	h := []string{"Authorization", "Bearer " + slow}
	for i := 0; i < 2; i++ {
		res, body := get(t, svc.base+"/v1/boursiers/1111037734L?annee=2014", h...)
		require.Equal(t, http.StatusOK, res.StatusCode, body)
	}
	res, body := get(t, svc.base+"/v1/boursiers/1111037734L?annee=2014", h...)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	assert.Contains(t, body, "too-many-requests")
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, retry, 1)

	res, body = post(t, svc.base+"/ws/connecteur", "text/xml; charset=utf-8", soapEnvelope("1111037734L", 2014), h...)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Contains(t, body, "TOO_MANY_REQUESTS")
	assert.NotEmpty(t, res.Header.Get("Retry-After"))

	// The default client is not slowed by another's limit.
	res, _ = get(t, svc.base+"/v1/boursiers/1111037734L?annee=2014", svc.bearer()...)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestMetrics(t *testing.T) {
	svc := start(t, nil)
	res, _ := get(t, svc.base+"/v1/boursiers/1111037734L?annee=2014", svc.bearer()...)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res, body := get(t, "http://"+svc.main.MetricsAddr()+"/metrics")
	require.Equal(t, http.StatusOK, res.StatusCode)
	for _, m := range []string{
		`aglae_http_requests_total{code="200",route="/v1/boursiers/{identifiant}",statut="BOURSIER"} 1`,
		`aglae_http_request_duration_seconds_bucket{route="/v1/boursiers/{identifiant}"`,
		"aglae_db_pool_connections_total", "aglae_consultations_queued", "aglae_consultations_spooled",
		"aglae_consultations_written_total", "go_goroutines", "process_resident_memory_bytes",
	} {
		assert.Contains(t, body, m)
	}
	// Profiles are on the metrics listener too, never on the API's.
	res, body = get(t, "http://"+svc.main.MetricsAddr()+"/debug/pprof/")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "goroutine")
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		res, _ = get(t, svc.base+path)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, path)
	}
}

// pki is a throwaway certificate authority with a server and a client
// certificate, written as PEM files.
type pki struct {
	dir                         string
	caPool                      *x509.CertPool
	serverCert, serverKey, caPE string
	client                      tls.Certificate
	clientSubject               string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	issue := func(serial int64, name pkix.Name, usage x509.ExtKeyUsage, ip bool) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: name, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		return der, key
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600))
		return p
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		require.NoError(t, err)
		return b
	}
	srvDER, srvKey := issue(2, pkix.Name{CommonName: "127.0.0.1"}, x509.ExtKeyUsageServerAuth, true)
	cliName := pkix.Name{CommonName: "apogee.uvsq.fr", Organization: []string{"UVSQ"}, Country: []string{"FR"}}
	cliDER, cliKey := issue(3, cliName, x509.ExtKeyUsageClientAuth, false)
	p := pki{dir: dir, caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	p.serverCert = write("server.pem", "CERTIFICATE", srvDER)
	p.serverKey = write("server-key.pem", "EC PRIVATE KEY", keyDER(srvKey))
	p.caPE = write("ca.pem", "CERTIFICATE", caDER)
	p.client = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	cli, err := x509.ParseCertificate(cliDER)
	require.NoError(t, err)
	p.clientSubject = cli.Subject.String()
	return p
}

func TestTLSAndMutualTLS(t *testing.T) {
	p := newPKI(t)
	svc := start(t, nil, func(c *server.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = p.serverCert, p.serverKey, p.caPE
	})
	_, _ = addClient(t, svc.dbURL, auth.NewClient{Nom: "UVSQ by certificate", UAI: "0781944P", CertSubject: p.clientSubject})

	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.caPool}}}
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.caPool, Certificates: []tls.Certificate{p.client}}}}
	url := svc.base + "/v1/boursiers/1111037734L?annee=2014"

	res, err := plain.Get(url)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "TLS without a certificate or a secret")

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+svc.secret)
	res, err = plain.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "TLS with a secret")

	res, err = withCert.Get(url)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "a client certificate alone authenticates its client")

	// Plain HTTP to a TLS port gets nowhere.
	res, err = http.Get(strings.Replace(url, "https://", "http://", 1))
	if err == nil {
		res.Body.Close()
		assert.NotEqual(t, http.StatusOK, res.StatusCode)
	}
}
