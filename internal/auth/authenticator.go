package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// DefaultCacheTTL is how long the Authenticator trusts a client record it
// read, when CacheTTL is 0: a revocation takes effect within that time.
const DefaultCacheTTL = 5 * time.Second

// storeTimeout bounds one read of the store (and one argon2id run) made on
// behalf of every request waiting for it.
const storeTimeout = 10 * time.Second

// Challenge is the WWW-Authenticate header of a 401: both schemes are
// accepted on every route.
const Challenge = `Bearer realm="aglae-connector", Basic realm="aglae-connector"`

// verify is VerifySecret; tests count its calls.
var verify = VerifySecret

// argonSlots bounds how many argon2id verifications run at once: each
// takes 19 MiB and a core for tens of milliseconds, and a flood of wrong
// secrets must not exhaust the memory.
var argonSlots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 2))

// Authenticator tells which API client sent a request. Its zero value with
// a Store is ready to use; it must not be copied after first use.
type Authenticator struct {
	Store    Store
	CacheTTL time.Duration // how long a client record read from the store is trusted; 0: DefaultCacheTTL
	Logger   *zap.Logger   // nil: no log

	byID      sync.Map // client id -> *entry
	bySubject sync.Map // certificate subject -> *entry
	flights   singleflight.Group
	now       func() time.Time // nil: time.Now; tests set it
}

// entry is what the Authenticator knows of a client: its record, when it
// was read, and the SHA-256 of the last secret argon2id accepted for it.
// An entry is never modified: a new one replaces it.
type entry struct {
	client  Client
	fetched time.Time
	good    bool // sum holds the digest of a verified secret
	sum     [sha256.Size]byte
}

func (e *entry) fresh(now time.Time, ttl time.Duration) bool {
	return e != nil && now.Sub(e.fetched) < ttl
}

// accepts reports, in time independent of the secret, whether sum is the
// digest of the secret argon2id accepted for e's record.
func (e *entry) accepts(sum *[sha256.Size]byte) bool {
	return e.good && subtle.ConstantTimeCompare(e.sum[:], sum[:]) == 1
}

func (a *Authenticator) ttl() time.Duration {
	if a.CacheTTL > 0 {
		return a.CacheTTL
	}
	return DefaultCacheTTL
}

func (a *Authenticator) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

func (a *Authenticator) log() *zap.Logger {
	if a.Logger == nil {
		return zap.NewNop()
	}
	return a.Logger
}

// Authenticate returns the client that sent r. It reads, in this order,
// an Authorization header (Bearer SECRET, or Basic with id:secret) and, if
// there is none, the subject of a verified client certificate. A refusal
// for whatever reason is ErrUnauthorized; a failure of the store is
// returned as it is (kind Unavailable or Internal).
func (a *Authenticator) Authenticate(r *http.Request) (Client, error) {
	var h string
	if v := r.Header["Authorization"]; len(v) > 0 { // the canonical key: no Get, which canonicalises
		h = v[0]
	}
	if h == "" {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
			return a.bySubjectCert(r.Context(), r.TLS.VerifiedChains[0][0].Subject.String())
		}
		return Client{}, ErrUnauthorized
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimLeft(cred, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		id, ok := idFromSecret(cred)
		if !ok {
			return a.refuse("malformed bearer token", "")
		}
		var buf [64]byte // the secret fits: no allocation to hash it
		sum := sha256.Sum256(append(buf[:0], cred...))
		if e := a.cached(id, &sum); e != nil {
			return a.admit(e.client)
		}
		return a.bySecretSlow(r.Context(), id, cred, sum)
	case strings.EqualFold(scheme, "Basic"):
		var buf [maxBasic]byte
		id, secret, ok := parseBasic(cred, &buf)
		if !ok {
			return a.refuse("malformed basic credentials", "")
		}
		sum := sha256.Sum256(secret)
		if e := a.cached(id, &sum); e != nil {
			return a.admit(e.client)
		}
		return a.bySecretSlow(r.Context(), id, string(secret), sum)
	}
	return a.refuse("unknown authorization scheme", "")
}

// maxBasic bounds the decoded credentials of HTTP Basic: a longest id, a
// colon and a secret take 82 bytes.
const maxBasic = 128

// parseBasic decodes the base64 credentials of HTTP Basic, id:secret, into
// buf. It refuses an id the store cannot hold, an empty secret and
// anything longer than buf.
func parseBasic(cred string, buf *[maxBasic]byte) (id string, secret []byte, ok bool) {
	if base64.StdEncoding.DecodedLen(len(cred)) > len(buf) {
		return "", nil, false
	}
	n, err := base64.StdEncoding.Decode(buf[:], []byte(cred))
	if err != nil {
		return "", nil, false
	}
	dec := buf[:n]
	i := bytes.IndexByte(dec, ':')
	if i < 0 || i == len(dec)-1 {
		return "", nil, false
	}
	id = string(dec[:i])
	return id, dec[i+1:], validID(id)
}

func (a *Authenticator) refuse(reason, id string) (Client, error) {
	if ce := a.log().Check(zap.InfoLevel, "authentication refused"); ce != nil {
		fields := []zap.Field{zap.String("reason", reason)}
		if id != "" {
			fields = append(fields, zap.String("client", id))
		}
		ce.Write(fields...)
	}
	return Client{}, ErrUnauthorized
}

// cached returns the cache's entry of client id if it can answer for the
// secret whose digest is sum: the secret was verified and the record is
// fresh; else nil. This is the path of nearly every request: a map read
// and a comparison, without allocation.
func (a *Authenticator) cached(id string, sum *[sha256.Size]byte) *entry {
	v, ok := a.byID.Load(id)
	if !ok {
		return nil
	}
	if e := v.(*entry); e.fresh(a.clock(), a.ttl()) && e.accepts(sum) {
		return e
	}
	return nil
}

// bySecretSlow authenticates client id by secret, whose digest is sum,
// when the cache cannot answer.
func (a *Authenticator) bySecretSlow(ctx context.Context, id, secret string, sum [sha256.Size]byte) (Client, error) {
	// The key holds the secret's digest: a request with another (maybe
	// wrong) secret must never share this flight's verdict.
	key := "i\x00" + id + "\x00" + string(sum[:])
	return a.flight(ctx, key, func(ctx context.Context) (Client, error) {
		return a.verifySlow(ctx, id, secret, &sum)
	})
}

// verifySlow reads client id's record if the cached one is stale and runs
// argon2id if the secret was not verified yet. It runs once at a time per
// client and secret.
func (a *Authenticator) verifySlow(ctx context.Context, id, secret string, sum *[sha256.Size]byte) (Client, error) {
	var e *entry
	if v, ok := a.byID.Load(id); ok {
		e = v.(*entry)
	}
	if !e.fresh(a.clock(), a.ttl()) {
		c, err := a.Store.ByID(ctx, id)
		if bourse.KindOf(err) == bourse.KindNotFound {
			a.byID.Delete(id)
			return a.refuse("unknown client", id)
		}
		if err != nil {
			return Client{}, err
		}
		e = a.remember(id, e, c)
	}
	if e.client.Revoque() {
		return a.refuse("revoked client", id)
	}
	if e.accepts(sum) {
		return a.admit(e.client)
	}
	select {
	case argonSlots <- struct{}{}:
	case <-ctx.Done():
		return Client{}, bourse.Unavailable("authenticate", ctx.Err())
	}
	start := time.Now()
	ok := verify(e.client.SecretHash, secret)
	<-argonSlots
	a.log().Debug("secret verified with argon2id", zap.String("client", id), zap.Bool("ok", ok),
		zap.Duration("took", time.Since(start)))
	if !ok {
		// Never cached: the next try with this secret runs argon2id again.
		return a.refuse("wrong secret", id)
	}
	good := *e
	good.good, good.sum = true, *sum
	a.byID.Store(id, &good)
	return a.admit(good.client)
}

// remember caches c, read now, in place of old. The digest of the verified
// secret survives as long as the stored hash is the same.
func (a *Authenticator) remember(id string, old *entry, c Client) *entry {
	e := &entry{client: c, fetched: a.clock()}
	if old != nil && old.good && old.client.SecretHash == c.SecretHash {
		e.good, e.sum = true, old.sum
	}
	a.byID.Store(id, e)
	return e
}

// bySubjectCert authenticates the client a verified certificate's subject
// names.
func (a *Authenticator) bySubjectCert(ctx context.Context, subject string) (Client, error) {
	if v, ok := a.bySubject.Load(subject); ok {
		if e := v.(*entry); e.fresh(a.clock(), a.ttl()) {
			return a.admit(e.client)
		}
	}
	return a.flight(ctx, "s\x00"+subject, func(ctx context.Context) (Client, error) {
		c, err := a.Store.BySubject(ctx, subject)
		if bourse.KindOf(err) == bourse.KindNotFound {
			a.bySubject.Delete(subject)
			return a.refuse("unknown certificate subject", "")
		}
		if err != nil {
			return Client{}, err
		}
		a.bySubject.Store(subject, &entry{client: c, fetched: a.clock()})
		return a.admit(c)
	})
}

// admit returns c, without its hash, unless it was revoked.
func (a *Authenticator) admit(c Client) (Client, error) {
	if c.Revoque() {
		return a.refuse("revoked client", c.ID)
	}
	c.SecretHash = ""
	return c, nil
}

// flight runs f once for all the requests that ask for key at the same
// time. f runs on a context detached from the first caller's, so that its
// going away does not fail the others; each caller stops waiting when its
// own context ends.
func (a *Authenticator) flight(ctx context.Context, key string, f func(context.Context) (Client, error)) (Client, error) {
	ch := a.flights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		return f(fctx)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return Client{}, res.Err
		}
		return res.Val.(Client), nil
	case <-ctx.Done():
		return Client{}, bourse.Unavailable("authenticate", ctx.Err())
	}
}

// Middleware authenticates every request with a. On success the request's
// context carries the client (ClientDe) and a bourse.Appelant naming it
// (its Canal kept from an Appelant already there). On failure it calls
// onError with an error web.Classify maps to web.Unauthorized, after
// setting WWW-Authenticate, or with the store's error.
func Middleware(a *Authenticator, onError func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := a.Authenticate(r)
			if err != nil {
				if errors.Is(err, ErrUnauthorized) {
					w.Header().Set("WWW-Authenticate", Challenge)
					err = web.Errorf(web.Unauthorized, "authentication required: send a valid Bearer token or HTTP Basic credentials")
				}
				onError(w, r, err)
				return
			}
			ctx := r.Context()
			ap, _ := bourse.AppelantDe(ctx)
			ap.ClientID, ap.Nom, ap.UAI = c.ID, c.Nom, c.UAI
			ctx = bourse.AvecAppelant(AvecClient(ctx, c), ap)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
