package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// fakeStore is an auth.Store in memory that counts its reads. The
// database's own behaviour is tested in package postgres.
type fakeStore struct {
	mu        sync.Mutex
	clients   map[string]auth.Client
	err       error // when set, every read fails with it
	byID      atomic.Int64
	bySubject atomic.Int64
}

func (s *fakeStore) ByID(_ context.Context, id string) (auth.Client, error) {
	s.byID.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return auth.Client{}, s.err
	}
	c, ok := s.clients[id]
	if !ok {
		return auth.Client{}, &bourse.Error{Kind: bourse.KindNotFound, Message: "client by id: not found"}
	}
	return c, nil
}

func (s *fakeStore) BySubject(_ context.Context, subject string) (auth.Client, error) {
	s.bySubject.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return auth.Client{}, s.err
	}
	for _, c := range s.clients {
		if c.CertSubject != "" && c.CertSubject == subject {
			return c, nil
		}
	}
	return auth.Client{}, &bourse.Error{Kind: bourse.KindNotFound, Message: "client by subject: not found"}
}

func (s *fakeStore) update(id string, f func(*auth.Client)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[id]
	f(&c)
	s.clients[id] = c
}

func (s *fakeStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// cred is a client's credentials and its hash.
type cred struct{ id, secret, hash string }

// Two clients' credentials, made once for the whole test binary.
var (
	credsOnce sync.Once
	credUVSQ  cred
	credInteg cred
)

func creds(t testing.TB) (cred, cred) {
	credsOnce.Do(func() {
		for _, c := range []*cred{&credUVSQ, &credInteg} {
			c.id, c.secret = auth.NewCredentials()
			h, err := auth.HashSecret(c.secret)
			if err != nil {
				panic(err)
			}
			c.hash = h
		}
	})
	return credUVSQ, credInteg
}

const subjectUVSQ = "CN=apogee.uvsq.fr,OU=DSI,O=UVSQ,C=FR"

// fixture returns an Authenticator over a store of two clients, UVSQ (with
// a certificate subject) and an integrator, and its clock.
func fixture(t testing.TB) (*auth.Authenticator, *fakeStore, *testutil.Clock) {
	uvsq, integ := creds(t)
	s := &fakeStore{clients: map[string]auth.Client{
		uvsq.id: {ID: uvsq.id, Nom: "UVSQ Apogée", UAI: "0781944P", CertSubject: subjectUVSQ,
			CreatedAt: time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC), SecretHash: uvsq.hash},
		integ.id: {ID: integ.id, Nom: "Intégrateur", SecretHash: integ.hash, Rate: 10, Burst: 20},
	}}
	clk := testutil.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	a := &auth.Authenticator{Store: s, CacheTTL: 5 * time.Second}
	auth.SetClock(a, clk.Now)
	return a, s, clk
}

func bearer(secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/verifications", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	return r
}

func basic(id, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/soap", nil)
	r.SetBasicAuth(id, secret)
	return r
}

func TestAuthenticateBearerAndBasic(t *testing.T) {
	a, _, _ := fixture(t)
	uvsq, integ := creds(t)

	c, err := a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)
	assert.Equal(t, uvsq.id, c.ID)
	assert.Equal(t, "UVSQ Apogée", c.Nom)
	assert.Equal(t, "0781944P", c.UAI)

	c, err = a.Authenticate(basic(integ.id, integ.secret))
	require.NoError(t, err)
	assert.Equal(t, integ.id, c.ID)
	assert.Empty(t, c.UAI)

	// The scheme is case-insensitive (RFC 9110).
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "bearer "+uvsq.secret)
	c, err = a.Authenticate(r)
	require.NoError(t, err)
	assert.Equal(t, uvsq.id, c.ID)
}

func TestAuthenticateRefusesWithOneError(t *testing.T) {
	a, _, _ := fixture(t)
	uvsq, integ := creds(t)
	unknownID, unknownSecret := auth.NewCredentials()
	wrong := uvsq.secret[:len(uvsq.secret)-1] + flip(uvsq.secret[len(uvsq.secret)-1])

	for name, r := range map[string]*http.Request{
		"no credentials":                httptest.NewRequest(http.MethodGet, "/", nil),
		"bearer, wrong secret":          bearer(wrong),
		"bearer, unknown client":        bearer(unknownSecret),
		"bearer, another's secret":      bearer("acx_" + uvsq.id + integ.secret[len("acx_")+12:]),
		"basic, wrong secret":           basic(uvsq.id, wrong),
		"basic, another client's":       basic(uvsq.id, integ.secret),
		"basic, unknown client":         basic(unknownID, unknownSecret),
		"basic, id of another's secret": basic(integ.id, uvsq.secret),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := a.Authenticate(r)
			assert.Equal(t, auth.ErrUnauthorized, err)
			assert.Zero(t, c)
		})
	}
}

func TestAuthenticateMalformedHeaders(t *testing.T) {
	a, s, _ := fixture(t)
	uvsq, _ := creds(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, h := range []string{
		"Bearer",
		"Bearer ",
		"Bearer  ",
		"Bearer acx_",
		"Bearer acx_short_x",
		"Bearer " + strings.ToUpper(uvsq.secret),
		"Bearer " + uvsq.secret + " trailing",
		"Bearer " + strings.Replace(uvsq.secret, "_", "-", -1),
		"Bearer " + "acx_" + "ABCDEFGHIJKL" + uvsq.secret[16:],
		"Bearer " + strings.Repeat("a", 1<<16),
		"Bearer\t" + uvsq.secret,
		"Basic",
		"Basic ",
		"Basic !!!not-base64!!!",
		"Basic " + b64("no-colon"),
		"Basic " + b64(":"+uvsq.secret),
		"Basic " + b64(uvsq.id+":"),
		"Basic " + b64(strings.ToUpper(uvsq.id)+":"+uvsq.secret),
		"Basic " + b64("a b:c"),
		"Basic " + b64(strings.Repeat("a", 40)+":x"),
		"Digest username=\"x\"",
		"Token " + uvsq.secret,
		uvsq.secret,
		"\x00\xff",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", h)
		name := h
		if len(name) > 60 {
			name = name[:60] + "…"
		}
		require.NotPanics(t, func() {
			_, err := a.Authenticate(r)
			assert.Equal(t, auth.ErrUnauthorized, err, "%q", name)
		})
	}
	assert.Zero(t, s.byID.Load(), "malformed credentials never reach the store")
}

func TestAuthenticateRevokedAfterTTL(t *testing.T) {
	a, s, clk := fixture(t)
	uvsq, _ := creds(t)
	_, err := a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)

	revoked := clk.Now()
	s.update(uvsq.id, func(c *auth.Client) { c.RevokedAt = &revoked })

	clk.Advance(4 * time.Second)
	_, err = a.Authenticate(bearer(uvsq.secret))
	assert.NoError(t, err, "the record is trusted for CacheTTL")
	assert.EqualValues(t, 1, s.byID.Load())

	clk.Advance(time.Second)
	_, err = a.Authenticate(bearer(uvsq.secret))
	assert.Equal(t, auth.ErrUnauthorized, err, "revoked, once the record is re-read")
	assert.EqualValues(t, 2, s.byID.Load())
	_, err = a.Authenticate(basic(uvsq.id, uvsq.secret))
	assert.Equal(t, auth.ErrUnauthorized, err)
}

func TestAuthenticateDefaultTTL(t *testing.T) {
	a, s, clk := fixture(t)
	a.CacheTTL = 0
	uvsq, _ := creds(t)
	_, err := a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)
	clk.Advance(auth.DefaultCacheTTL - time.Millisecond)
	_, err = a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)
	assert.EqualValues(t, 1, s.byID.Load())
	clk.Advance(time.Millisecond)
	_, err = a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)
	assert.EqualValues(t, 2, s.byID.Load())
}

func TestAuthenticateStoreFailure(t *testing.T) {
	a, s, clk := fixture(t)
	uvsq, _ := creds(t)
	down := bourse.Unavailable("client by id", context.DeadlineExceeded)
	s.fail(down)
	_, err := a.Authenticate(bearer(uvsq.secret))
	assert.ErrorIs(t, err, down, "a store failure is not a refusal")
	assert.NotErrorIs(t, err, auth.ErrUnauthorized)
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err))

	s.fail(nil)
	_, err = a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)

	// Within CacheTTL, a verified client goes on through a store outage.
	s.fail(down)
	_, err = a.Authenticate(bearer(uvsq.secret))
	assert.NoError(t, err)
	clk.Advance(10 * time.Second)
	_, err = a.Authenticate(bearer(uvsq.secret))
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err))
}

// The store is read once per client, however many requests arrive
// together and whatever secrets they carry; then the cache answers until
// the record is CacheTTL old.
func TestAuthenticateReadsStoreOncePerClient(t *testing.T) {
	a, s, clk := fixture(t)
	a.FailureBurst = 1000
	uvsq, integ := creds(t)
	wrong := uvsq.secret[:len(uvsq.secret)-1] + flip(uvsq.secret[len(uvsq.secret)-1])

	const concurrent = 64
	var wg sync.WaitGroup
	var refused, accepted atomic.Int64
	start := make(chan struct{})
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := bearer(uvsq.secret)
			switch i % 3 {
			case 1:
				r = basic(uvsq.id, uvsq.secret)
			case 2:
				r = bearer(wrong)
			}
			if _, err := a.Authenticate(r); err != nil {
				assert.ErrorIs(t, err, auth.ErrUnauthorized)
				refused.Add(1)
			} else {
				accepted.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, concurrent/3, refused.Load(), "the wrong secrets, and only them")
	assert.EqualValues(t, 1, s.byID.Load(), "the store is read once")

	for range 1000 {
		_, err := a.Authenticate(bearer(wrong))
		require.ErrorIs(t, err, auth.ErrUnauthorized)
	}
	assert.EqualValues(t, 1, s.byID.Load(), "wrong secrets never read the store while the record is fresh")

	clk.Advance(time.Minute)
	_, err := a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)
	assert.EqualValues(t, 2, s.byID.Load())

	// A new secret (a new digest in the record) replaces the old one once
	// the record is re-read.
	_, err = a.Authenticate(bearer(integ.secret))
	require.NoError(t, err)
	_, newSecret := auth.NewCredentials()
	newSecret = "acx_" + integ.id + newSecret[len("acx_")+12:]
	newHash, err := auth.HashSecret(newSecret)
	require.NoError(t, err)
	s.update(integ.id, func(c *auth.Client) { c.SecretHash = newHash })
	clk.Advance(time.Minute)
	_, err = a.Authenticate(basic(integ.id, integ.secret))
	assert.ErrorIs(t, err, auth.ErrUnauthorized)
	_, err = a.Authenticate(basic(integ.id, newSecret))
	assert.NoError(t, err)
	_, err = a.Authenticate(bearer(newSecret))
	assert.NoError(t, err)
}

// A client id's repeated failures are throttled in its own bucket: past
// the burst they answer ThrottledError, while the client's right secret
// still passes and other clients are untouched.
func TestAuthenticateThrottlesFailures(t *testing.T) {
	a, _, clk := fixture(t)
	a.FailureRate, a.FailureBurst = 1, 3
	uvsq, integ := creds(t)
	wrong := uvsq.secret[:len(uvsq.secret)-1] + flip(uvsq.secret[len(uvsq.secret)-1])
	for i := range 3 {
		_, err := a.Authenticate(bearer(wrong))
		require.Equal(t, auth.ErrUnauthorized, err, "failure %d is within the burst", i+1)
	}
	var te *auth.ThrottledError
	_, err := a.Authenticate(basic(uvsq.id, "wrong"))
	require.ErrorAs(t, err, &te, "past the burst")
	assert.ErrorIs(t, err, auth.ErrUnauthorized, "a throttled refusal is a refusal")
	assert.Equal(t, time.Second, te.RetryAfter)

	c, err := a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err, "the right secret is never throttled")
	assert.Equal(t, uvsq.id, c.ID)
	_, err = a.Authenticate(bearer(integ.secret))
	require.NoError(t, err, "another client")
	_, err = a.Authenticate(bearer("acx_" + integ.id + wrong[len("acx_")+12:]))
	assert.Equal(t, auth.ErrUnauthorized, err, "another client's failures have their own bucket")

	clk.Advance(time.Second)
	_, err = a.Authenticate(bearer(wrong))
	assert.Equal(t, auth.ErrUnauthorized, err, "a token back after a second")
	_, err = a.Authenticate(bearer(wrong))
	assert.ErrorAs(t, err, &te)
}

// Invented client ids share one failure bucket; once it is empty, a new
// one is refused without reading the store, so that a flood of them cannot
// take the read pool the lookups share. Known clients are untouched.
func TestAuthenticateUnknownIDsStopReadingTheStore(t *testing.T) {
	a, s, clk := fixture(t)
	a.FailureRate, a.FailureBurst = 1, 3
	uvsq, _ := creds(t)
	_, err := a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err)
	before := s.byID.Load()
	var te *auth.ThrottledError
	for i := range 10 {
		_, err := a.Authenticate(basic(fmt.Sprintf("invente%04d", i), "x"))
		if i < 3 {
			require.Equal(t, auth.ErrUnauthorized, err, "unknown id %d is within the burst", i)
		} else {
			require.ErrorAs(t, err, &te, "unknown id %d past the burst", i)
		}
	}
	assert.Equal(t, int64(3), s.byID.Load()-before, "only the ids within the burst read the store")

	_, err = a.Authenticate(bearer(uvsq.secret))
	require.NoError(t, err, "a known client still passes")

	clk.Advance(time.Second)
	_, err = a.Authenticate(basic("invente9999", "x"))
	assert.Equal(t, auth.ErrUnauthorized, err, "a token back after a second")
	assert.Equal(t, int64(4), s.byID.Load()-before)
}

// A client whose record still holds an argon2id hash (made before the
// digests) authenticates no one, and the log says to re-issue it.
func TestAuthenticateLegacyHash(t *testing.T) {
	a, s, _ := fixture(t)
	core, logs := observer.New(zap.InfoLevel)
	a.Logger = zap.New(core)
	uvsq, _ := creds(t)
	s.update(uvsq.id, func(c *auth.Client) {
		c.SecretHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$dBgov9rshkQ58oGSajQX/fV/3ZtWGRQsenAPBrdBf1Q"
	})
	_, err := a.Authenticate(bearer(uvsq.secret))
	assert.Equal(t, auth.ErrUnauthorized, err)
	warn := logs.FilterMessage("authentication impossible").All()
	require.Len(t, warn, 1)
	assert.Equal(t, uvsq.id, warn[0].ContextMap()["client"])
	assert.Contains(t, warn[0].ContextMap()["reason"], "re-issue the client")
}

// A wrong secret sent at the same time as the right one never shares its
// verdict.
func TestAuthenticateConcurrentWrongSecret(t *testing.T) {
	a, _, _ := fixture(t)
	uvsq, _ := creds(t)
	wrong := uvsq.secret[:len(uvsq.secret)-1] + flip(uvsq.secret[len(uvsq.secret)-1])
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := a.Authenticate(bearer(uvsq.secret))
				assert.NoError(t, err)
			} else {
				_, err := a.Authenticate(bearer(wrong))
				assert.ErrorIs(t, err, auth.ErrUnauthorized)
			}
		}()
	}
	wg.Wait()
}

// testCA is a throwaway certificate authority for client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pool}
}

// issue returns a client certificate for subject, signed by ca.
func (ca *testCA) issue(t *testing.T, subject pkix.Name) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
}

// newCert returns a certificate for subject, signed by a throwaway CA, as
// a TLS server sees it once it has verified the chain.
func newCert(t *testing.T, subject pkix.Name) *x509.Certificate {
	t.Helper()
	ca := newCA(t)
	cert := ca.issue(t, subject).Leaf
	_, err := cert.Verify(x509.VerifyOptions{Roots: ca.pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
	return cert
}

func withCert(cert *x509.Certificate, verified bool) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/soap", nil)
	st := &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{cert}}
	if verified {
		st.VerifiedChains = [][]*x509.Certificate{{cert}}
	}
	r.TLS = st
	return r
}

func TestAuthenticateClientCertificate(t *testing.T) {
	a, s, clk := fixture(t)
	uvsq, integ := creds(t)
	cert := newCert(t, pkix.Name{CommonName: "apogee.uvsq.fr", OrganizationalUnit: []string{"DSI"},
		Organization: []string{"UVSQ"}, Country: []string{"FR"}})
	require.Equal(t, subjectUVSQ, cert.Subject.String())

	c, err := a.Authenticate(withCert(cert, true))
	require.NoError(t, err)
	assert.Equal(t, uvsq.id, c.ID)
	assert.Equal(t, "0781944P", c.UAI)
	_, err = a.Authenticate(withCert(cert, true))
	require.NoError(t, err)
	assert.EqualValues(t, 1, s.bySubject.Load(), "the subject's client is cached")

	_, err = a.Authenticate(withCert(cert, false))
	assert.Equal(t, auth.ErrUnauthorized, err, "an unverified certificate names no one")

	other := newCert(t, pkix.Name{CommonName: "someone.example", Organization: []string{"Elsewhere"}})
	_, err = a.Authenticate(withCert(other, true))
	assert.Equal(t, auth.ErrUnauthorized, err, "a subject that maps to no client")

	// Credentials in the header win over the certificate, and are not
	// replaced by it when wrong.
	r := withCert(cert, true)
	r.SetBasicAuth(integ.id, integ.secret)
	c, err = a.Authenticate(r)
	require.NoError(t, err)
	assert.Equal(t, integ.id, c.ID)
	r = withCert(cert, true)
	r.SetBasicAuth(integ.id, "wrong")
	_, err = a.Authenticate(r)
	assert.Equal(t, auth.ErrUnauthorized, err)

	revoked := clk.Now()
	s.update(uvsq.id, func(c *auth.Client) { c.RevokedAt = &revoked })
	clk.Advance(10 * time.Second)
	_, err = a.Authenticate(withCert(cert, true))
	assert.Equal(t, auth.ErrUnauthorized, err, "a revoked client's certificate")
}

// Over a real mutual-TLS connection, as the server will run it: a
// certificate the client CA signed names its client; without one, or with
// one from another CA, the request is refused.
func TestAuthenticateOverMutualTLS(t *testing.T) {
	a, _, _ := fixture(t)
	uvsq, _ := creds(t)
	ca := newCA(t)
	srv := httptest.NewUnstartedServer(auth.Middleware(a, nil, func(w http.ResponseWriter, r *http.Request, err error) {
		k, _ := web.Classify(err)
		w.WriteHeader(k.Status)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, _ := bourse.AppelantFrom(r.Context())
		_, _ = w.Write([]byte(ap.ClientID))
	})))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()

	base := srv.Client().Transport.(*http.Transport)
	get := func(cert *tls.Certificate) (int, string) {
		tr := base.Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		resp, err := c.Get(srv.URL)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	good := ca.issue(t, pkix.Name{CommonName: "apogee.uvsq.fr", OrganizationalUnit: []string{"DSI"},
		Organization: []string{"UVSQ"}, Country: []string{"FR"}})
	code, body := get(&good)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, uvsq.id, body)

	code, _ = get(nil)
	assert.Equal(t, http.StatusUnauthorized, code, "no certificate, no credentials")

	foreign := newCA(t).issue(t, pkix.Name{CommonName: "apogee.uvsq.fr", OrganizationalUnit: []string{"DSI"},
		Organization: []string{"UVSQ"}, Country: []string{"FR"}})
	code, _ = get(&foreign)
	assert.NotEqual(t, http.StatusOK, code, "a certificate from another CA is refused at the handshake")
}

func TestMiddleware(t *testing.T) {
	a, s, _ := fixture(t)
	uvsq, _ := creds(t)
	var got struct {
		ap     bourse.Appelant
		client auth.Client
		err    error
		called bool
	}
	// The server says which channel each route is.
	canal := func(*http.Request) bourse.Canal { return bourse.CanalSOAP }
	h := auth.Middleware(a, canal, func(w http.ResponseWriter, r *http.Request, err error) {
		got.err = err
		k, _ := web.Classify(err)
		w.WriteHeader(k.Status)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.called = true
		got.ap, _ = bourse.AppelantFrom(r.Context())
		got.client, _ = auth.ClientFrom(r.Context())
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, basic(uvsq.id, uvsq.secret))
	require.True(t, got.called)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, bourse.Appelant{ClientID: uvsq.id, Nom: "UVSQ Apogée", UAI: "0781944P", Canal: bourse.CanalSOAP}, got.ap)
	assert.Equal(t, uvsq.id, got.client.ID)
	assert.Empty(t, got.client.SecretHash, "the hash does not travel with the request")
	assert.Empty(t, w.Header().Get("WWW-Authenticate"))

	got.called = false
	w = httptest.NewRecorder()
	h.ServeHTTP(w, bearer("acx_nope"))
	assert.False(t, got.called)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, `Bearer realm="aglae-connector", Basic realm="aglae-connector"`, w.Header().Get("WWW-Authenticate"))
	k, detail := web.Classify(got.err)
	assert.Equal(t, web.Unauthorized, k)
	assert.Equal(t, "authentication required: send a valid Bearer token or HTTP Basic credentials", detail)

	s.fail(bourse.Unavailable("client by id", context.DeadlineExceeded))
	_, other := creds(t)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, bearer(other.secret))
	assert.False(t, got.called)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "a store failure is a 503, not a 401")
	assert.Empty(t, w.Header().Get("WWW-Authenticate"))
}

// flip returns another base32 character than c.
func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func BenchmarkAuthenticateCached(b *testing.B) {
	a, _, _ := fixture(b)
	a.CacheTTL = time.Hour
	uvsq, _ := creds(b)
	r := bearer(uvsq.secret)
	if _, err := a.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.Run("bearer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	rb := basic(uvsq.id, uvsq.secret)
	b.Run("basic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authenticate(rb); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bearer-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := a.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// A failed authentication of a known client costs microseconds: a digest
// and a comparison, then a throttled refusal.
func BenchmarkAuthenticateWrongSecret(b *testing.B) {
	a, _, _ := fixture(b)
	a.CacheTTL = time.Hour
	uvsq, _ := creds(b)
	wrong := uvsq.secret[:len(uvsq.secret)-1] + flip(uvsq.secret[len(uvsq.secret)-1])
	r := bearer(wrong)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(r); !errors.Is(err, auth.ErrUnauthorized) {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashSecret(b *testing.B) {
	_, secret := auth.NewCredentials()
	for b.Loop() {
		if _, err := auth.HashSecret(secret); err != nil {
			b.Fatal(err)
		}
	}
}
