package postgres_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// A fixed digest is enough here: the store does not look into it.
const fakeHash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// legacyHash is an argon2id hash as the clients of migration 00002 hold.
const legacyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

func TestClientsAddListByIDBySubjectRevoke(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewClients(pgtest.New(t))

	cs, err := s.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, cs)

	uvsq := auth.NewClient{ID: "uvsq0000apog", Nom: "UVSQ Apogée", UAI: "0781944P", SecretHash: fakeHash,
		CertSubject: "CN=apogee.uvsq.fr,O=UVSQ,C=FR", Rate: 12.5, Burst: 30}
	integ := auth.NewClient{ID: "integrateur1", Nom: "Intégrateur", SecretHash: fakeHash}
	require.NoError(t, s.Add(ctx, uvsq))
	require.NoError(t, s.Add(ctx, integ))

	got, err := s.ByID(ctx, uvsq.ID)
	require.NoError(t, err)
	assert.Equal(t, uvsq.ID, got.ID)
	assert.Equal(t, uvsq.Nom, got.Nom)
	assert.Equal(t, "0781944P", got.UAI)
	assert.Equal(t, uvsq.CertSubject, got.CertSubject)
	assert.Equal(t, 12.5, got.Rate)
	assert.Equal(t, 30, got.Burst)
	assert.Equal(t, fakeHash, got.SecretHash)
	assert.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute)
	assert.Nil(t, got.RevokedAt)

	got, err = s.ByID(ctx, integ.ID)
	require.NoError(t, err)
	assert.Empty(t, got.UAI, "an integrator has no UAI")
	assert.Empty(t, got.CertSubject)
	assert.Zero(t, got.Rate, "NULL: the service's default")
	assert.Zero(t, got.Burst)

	got, err = s.BySubject(ctx, "CN=apogee.uvsq.fr,O=UVSQ,C=FR")
	require.NoError(t, err)
	assert.Equal(t, uvsq.ID, got.ID)
	assert.Equal(t, fakeHash, got.SecretHash)

	_, err = s.ByID(ctx, "absent000000")
	assert.Equal(t, bourse.KindNotFound, bourse.KindOf(err), "%v", err)
	_, err = s.BySubject(ctx, "CN=nobody")
	assert.Equal(t, bourse.KindNotFound, bourse.KindOf(err), "%v", err)

	cs, err = s.List(ctx)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.ElementsMatch(t, []string{uvsq.ID, integ.ID}, []string{cs[0].ID, cs[1].ID})
	for _, c := range cs {
		assert.Empty(t, c.SecretHash, "List never returns the hash")
	}

	require.NoError(t, s.Revoke(ctx, uvsq.ID))
	got, err = s.ByID(ctx, uvsq.ID)
	require.NoError(t, err)
	require.NotNil(t, got.RevokedAt)
	first := *got.RevokedAt

	// Idempotent: the first revocation time stays.
	require.NoError(t, s.Revoke(ctx, uvsq.ID))
	got, err = s.ByID(ctx, uvsq.ID)
	require.NoError(t, err)
	require.NotNil(t, got.RevokedAt)
	assert.True(t, first.Equal(*got.RevokedAt))

	err = s.Revoke(ctx, "absent000000")
	assert.Equal(t, bourse.KindNotFound, bourse.KindOf(err), "%v", err)

	other, err := s.ByID(ctx, integ.ID)
	require.NoError(t, err)
	assert.Nil(t, other.RevokedAt, "revoking one client leaves the others")
}

func TestClientsAddRefusesDuplicatesAndBadValues(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewClients(pgtest.New(t))
	a := auth.NewClient{ID: "clienta00000", Nom: "A", SecretHash: fakeHash, CertSubject: "CN=a,O=X"}
	require.NoError(t, s.Add(ctx, a))

	for name, c := range map[string]auth.NewClient{
		"duplicate subject": {ID: "clientb00000", Nom: "B", SecretHash: fakeHash, CertSubject: "CN=a,O=X"},
		"duplicate id":      {ID: "clienta00000", Nom: "B", SecretHash: fakeHash},
		"empty name":        {ID: "clientc00000", SecretHash: fakeHash},
		"bad UAI":           {ID: "clientd00000", Nom: "D", UAI: "0781944p", SecretHash: fakeHash},
		"bad id":            {ID: "Client-E", Nom: "E", SecretHash: fakeHash},
		"negative rate":     {ID: "clientf00000", Nom: "F", SecretHash: fakeHash, Rate: -1},
		"negative burst":    {ID: "clientg00000", Nom: "G", SecretHash: fakeHash, Burst: -1},
		"secret not hashed": {ID: "clienti00000", Nom: "I", SecretHash: "acx_clienti00000_abcdefghijklmnopqrstuvwxyz234567"},
		"digest upper-case": {ID: "clientj00000", Nom: "J", SecretHash: "sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"},
		"digest too short":  {ID: "clientk00000", Nom: "K", SecretHash: fakeHash[:len(fakeHash)-1]},
	} {
		t.Run(name, func(t *testing.T) {
			err := s.Add(ctx, c)
			require.Error(t, err)
			assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err), "%v", err)
		})
	}

	var be *bourse.Error
	err := s.Add(ctx, auth.NewClient{ID: "clienth00000", Nom: "H", SecretHash: fakeHash, CertSubject: "CN=a,O=X"})
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "certificat", be.Field, "the operator is told which value is taken")

	cs, err := s.List(ctx)
	require.NoError(t, err)
	assert.Len(t, cs, 1, "no refused client was stored")
}

// The store plugged into the Authenticator: a client created with a real
// hash authenticates, and is refused once revoked.
func TestClientsAuthenticate(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewClients(pgtest.New(t))
	id, secret := auth.NewCredentials()
	hash, err := auth.HashSecret(secret)
	require.NoError(t, err)
	require.NoError(t, s.Add(ctx, auth.NewClient{ID: id, Nom: "UVSQ Apogée", UAI: "0781944P", SecretHash: hash}))

	a := &auth.Authenticator{Store: s, CacheTTL: time.Millisecond}
	req := func() error {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		c, err := a.Authenticate(r)
		if err == nil {
			assert.Equal(t, id, c.ID)
			assert.Equal(t, "0781944P", c.UAI)
		}
		return err
	}
	require.NoError(t, req())

	// A client left with an argon2id hash (migration 00004 keeps such rows)
	// is refused, and can still be revoked.
	legacyID, legacySecret := auth.NewCredentials()
	require.NoError(t, s.Add(ctx, auth.NewClient{ID: legacyID, Nom: "Ancien", SecretHash: legacyHash}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+legacySecret)
	_, err = a.Authenticate(r)
	assert.ErrorIs(t, err, auth.ErrUnauthorized)
	require.NoError(t, s.Revoke(ctx, legacyID))

	require.NoError(t, s.Revoke(ctx, id))
	time.Sleep(5 * time.Millisecond)
	assert.ErrorIs(t, req(), auth.ErrUnauthorized)
}
