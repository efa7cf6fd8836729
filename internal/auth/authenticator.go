package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// DefaultCacheTTL is how long the Authenticator trusts a client record it
// read, when CacheTTL is 0: a revocation takes effect within that time.
const DefaultCacheTTL = 5 * time.Second

// storeTimeout bounds one read of the store made on behalf of every
// request waiting for it.
const storeTimeout = 10 * time.Second

// The default throttle of failed authentications: per client id, a burst
// of DefaultFailureBurst failures, then DefaultFailureRate per second. Past
// it a failure answers 429 instead of 401 and is not logged one by one.
const (
	DefaultFailureRate  rate.Limit = 1
	DefaultFailureBurst int        = 10
)

// unknownClients is the failure bucket that every unknown client id
// shares: ids cost nothing to invent, and a bucket each would let a flood
// of them fill the memory. It is not a valid id, so no client has it.
const unknownClients = "?unknown"

// Challenge is the WWW-Authenticate header of a 401: both schemes are
// accepted on every route.
const Challenge = `Bearer realm="aglae-connector", Basic realm="aglae-connector"`

// ThrottledError is the refusal of a client id whose recent failed
// authentications exceeded its failure bucket: the caller retries after
// RetryAfter. A request with the right secret is never refused with it.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return "auth: too many failed authentications for this client id"
}

// Is makes a throttled refusal an ErrUnauthorized too.
func (e *ThrottledError) Is(target error) bool { return target == ErrUnauthorized }

// Authenticator tells which API client sent a request. Its zero value with
// a Store is ready to use; it must not be copied after first use.
type Authenticator struct {
	Store        Store
	CacheTTL     time.Duration // how long a client record read from the store is trusted; 0: DefaultCacheTTL
	FailureRate  rate.Limit    // failed authentications per second per client id past the burst; 0: DefaultFailureRate
	FailureBurst int           // 0: DefaultFailureBurst
	Logger       *zap.Logger   // nil: no log

	byID      sync.Map // client id -> *entry
	bySubject sync.Map // certificate subject -> *entry
	flights   singleflight.Group
	failures  Limiter
	initOnce  sync.Once
	now       func() time.Time // nil: time.Now; tests set it
}

// entry is what the Authenticator knows of a client: its record, when it
// was read, and the digest of its secret. An entry is never modified: a
// new one replaces it.
type entry struct {
	client  Client
	fetched time.Time
	sum     [sha256.Size]byte
	bad     error // why the stored digest can match nothing; nil when sum is valid
}

func (e *entry) fresh(now time.Time, ttl time.Duration) bool {
	return e != nil && now.Sub(e.fetched) < ttl
}

// accepts reports, in time independent of the secret, whether sum is the
// digest of e's client's secret.
func (e *entry) accepts(sum *[sha256.Size]byte) bool {
	return e.bad == nil && subtle.ConstantTimeCompare(e.sum[:], sum[:]) == 1
}

func newEntry(c Client, now time.Time) *entry {
	e := &entry{client: c, fetched: now}
	e.sum, e.bad = parseDigest(c.SecretHash)
	return e
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
// for whatever reason is ErrUnauthorized, or a *ThrottledError (which is
// ErrUnauthorized too) when the client id failed too often lately; a
// failure of the store is returned as it is (kind Unavailable or
// Internal). It reads only the headers: it can run before the body is.
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
		return a.bySecret(r.Context(), id, &sum)
	case strings.EqualFold(scheme, "Basic"):
		var buf [maxBasic]byte
		id, secret, ok := parseBasic(cred, &buf)
		if !ok {
			return a.refuse("malformed basic credentials", "")
		}
		sum := sha256.Sum256(secret)
		return a.bySecret(r.Context(), id, &sum)
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

// fail refuses a request that named client id (bucket, the id's failure
// bucket) with wrong or unusable credentials. Within the bucket's burst
// the refusal is a logged 401; past it, a *ThrottledError that is not
// logged, so that a flood of wrong secrets costs neither log lines nor
// reads of the store.
func (a *Authenticator) fail(bucket, id, reason string) (Client, error) {
	a.initFailures()
	if wait, _ := a.failures.Reserve(Client{ID: bucket}, a.clock()); wait > 0 {
		return Client{}, &ThrottledError{RetryAfter: wait}
	}
	return a.refuse(reason, id)
}

// initFailures sets the failure buckets' rate and burst, once.
func (a *Authenticator) initFailures() {
	a.initOnce.Do(func() {
		a.failures.Default, a.failures.DefaultBurst = a.FailureRate, a.FailureBurst
		if a.failures.Default <= 0 {
			a.failures.Default = DefaultFailureRate
		}
		if a.failures.DefaultBurst <= 0 {
			a.failures.DefaultBurst = DefaultFailureBurst
		}
	})
}

// bySecret authenticates client id by the digest of the secret sent. The
// client's record comes from the cache while it is fresh, else from the
// store, read once at a time per client whatever the secrets sent: a
// flood of wrong secrets for one id reads the store at most once per
// CacheTTL.
func (a *Authenticator) bySecret(ctx context.Context, id string, sum *[sha256.Size]byte) (Client, error) {
	var e *entry
	if v, ok := a.byID.Load(id); ok {
		e = v.(*entry)
	}
	if e == nil {
		// An id this instance holds nothing of: while invented ids are
		// being refused faster than the unknown ids' bucket refills, refuse
		// it without reading the store, so that a flood of them cannot take
		// the read pool the lookups share.
		a.initFailures()
		if !a.failures.Available(Client{ID: unknownClients}, a.clock()) {
			return Client{}, &ThrottledError{RetryAfter: time.Second}
		}
	}
	if !e.fresh(a.clock(), a.ttl()) {
		var err error
		if e, err = a.refresh(ctx, id); err != nil {
			if bourse.KindOf(err) == bourse.KindNotFound {
				return a.fail(unknownClients, id, "unknown client")
			}
			return Client{}, err
		}
	}
	switch {
	case e.client.Revoked():
		return a.fail(id, id, "revoked client")
	case e.accepts(sum):
		c := e.client
		c.SecretHash = ""
		return c, nil
	case e.bad != nil:
		if ce := a.log().Check(zap.WarnLevel, "authentication impossible"); ce != nil {
			ce.Write(zap.String("client", id), zap.String("reason", e.bad.Error()))
		}
		return a.fail(id, id, "unusable stored secret")
	}
	return a.fail(id, id, "wrong secret")
}

// refresh reads client id's record from the store and caches it. Requests
// that need it at the same time share one read.
func (a *Authenticator) refresh(ctx context.Context, id string) (*entry, error) {
	ch := a.flights.DoChan("i\x00"+id, func() (any, error) {
		// A read that ended after this request found the cache stale, but
		// before it got here, already brought the record.
		if v, ok := a.byID.Load(id); ok {
			if e := v.(*entry); e.fresh(a.clock(), a.ttl()) {
				return e, nil
			}
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		c, err := a.Store.ByID(fctx, id)
		if err != nil {
			if bourse.KindOf(err) == bourse.KindNotFound {
				a.byID.Delete(id)
			}
			return nil, err
		}
		e := newEntry(c, a.clock())
		a.byID.Store(id, e)
		return e, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*entry), nil
	case <-ctx.Done():
		return nil, bourse.Unavailable("authenticate", ctx.Err())
	}
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
		a.bySubject.Store(subject, newEntry(c, a.clock()))
		return a.admit(c)
	})
}

// admit returns c, without its hash, unless it was revoked.
func (a *Authenticator) admit(c Client) (Client, error) {
	if c.Revoked() {
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
// context carries the client (ClientFrom) and the bourse.Appelant made from
// it, its UAI validated, its Canal what canal says of the request (none
// when canal is nil). It is the one place the Appelant is made. On failure it calls
// onError with an error web.Classify maps to web.Unauthorized, after
// setting WWW-Authenticate; to web.TooManyRequests, after setting
// Retry-After, when the client id is throttled for its failures; or with
// the store's error.
func Middleware(a *Authenticator, canal func(*http.Request) bourse.Canal, onError func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := a.Authenticate(r)
			if err != nil {
				var te *ThrottledError
				if errors.As(err, &te) {
					s := retryAfter(te.RetryAfter)
					w.Header().Set("Retry-After", s)
					err = web.Errorf(web.TooManyRequests, "too many failed authentications for this client id; retry after "+s+" s")
				} else if errors.Is(err, ErrUnauthorized) {
					w.Header().Set("WWW-Authenticate", Challenge)
					err = web.Errorf(web.Unauthorized, "authentication required: send a valid Bearer token or HTTP Basic credentials")
				}
				onError(w, r, err)
				return
			}
			uai, err := bourse.ParseOptionalUAI("uai", c.UAI)
			if err != nil {
				onError(w, r, bourse.Internal("client "+c.ID+": stored UAI", err))
				return
			}
			ap := bourse.Appelant{ClientID: c.ID, Nom: c.Nom, UAI: uai}
			if canal != nil {
				ap.Canal = canal(r)
			}
			ctx := bourse.WithAppelant(WithClient(r.Context(), c), ap)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
