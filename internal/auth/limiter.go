package auth

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/aglae-connector/aglae-connector/internal/web"
)

// The default rate limit of a client whose record sets none: generous, a
// guard against a runaway loop rather than a quota.
const (
	DefaultRate  rate.Limit = 200 // lookups per second
	DefaultBurst int        = 400 // lookups above the rate in a burst
)

// DefaultIdleAfter is how long a client's bucket is kept without a request
// when Limiter.IdleAfter is 0.
const DefaultIdleAfter = 10 * time.Minute

// Limiter gives each client a token bucket: the client's own Debit and
// Rafale when its record sets them, Default and DefaultBurst otherwise.
// Behind several instances, each enforces its share: the rate divided by
// the number of live instances, and the burst too (at least 1), so that a
// client's limit holds across them; the buckets follow when that number
// changes. Buckets of clients idle for IdleAfter are dropped, so that
// memory stays bounded. Its zero value is ready to use and must not be
// copied after first use.
type Limiter struct {
	Default      rate.Limit    // 0: DefaultRate
	DefaultBurst int           // 0: DefaultBurst
	IdleAfter    time.Duration // 0: DefaultIdleAfter
	Instances    Instances     // nil: this instance alone

	mu        sync.RWMutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastUsed atomic.Int64 // unix nanoseconds
}

// settings returns the rate and burst of c.
func (l *Limiter) settings(c Client) (rate.Limit, int) {
	r, b := l.Default, l.DefaultBurst
	if r <= 0 {
		r = DefaultRate
	}
	if b <= 0 {
		b = DefaultBurst
	}
	if c.Rate > 0 {
		r = rate.Limit(c.Rate)
	}
	if c.Burst > 0 {
		b = c.Burst
	}
	return r, b
}

// Instances tells how many instances of the service share each client's
// rate limit, this one included. Live is called on every request: it must
// answer from memory, not from the database.
type Instances interface {
	Live() int
}

// Share returns this instance's part of rate r and burst b when n
// instances share them: r/n, and b/n rounded down but at least 1 (the sum
// of the shares never exceeds b but for a burst smaller than n).
func Share(r rate.Limit, b, n int) (rate.Limit, int) {
	if n <= 1 {
		return r, b
	}
	return r / rate.Limit(n), max(b/n, 1)
}

// share returns the rate and burst c's bucket holds on this instance, and
// c's whole rate.
func (l *Limiter) share(c Client) (r rate.Limit, b int, whole rate.Limit) {
	whole, b = l.settings(c)
	n := 1
	if l.Instances != nil {
		n = l.Instances.Live()
	}
	r, b = Share(whole, b, n)
	return r, b, whole
}

func (l *Limiter) idleAfter() time.Duration {
	if l.IdleAfter > 0 {
		return l.IdleAfter
	}
	return DefaultIdleAfter
}

// Reserve takes one token from c's bucket at now. It returns 0 when the
// request may go on, else how long until a token is available (the token
// is not taken then), and c's rate (all instances together).
func (l *Limiter) Reserve(c Client, now time.Time) (wait time.Duration, limit rate.Limit) {
	return l.ReserveN(c, 1, now)
}

// ReserveN takes n tokens from c's bucket at now, as Reserve does one. n
// must not exceed c's Burst: such tokens are never available, and the
// wait returned is then a second.
func (l *Limiter) ReserveN(c Client, n int, now time.Time) (wait time.Duration, limit rate.Limit) {
	r, b, whole := l.share(c)
	lim := l.bucket(c.ID, r, b, now)
	res := lim.ReserveN(now, n)
	if !res.OK() {
		return time.Second, whole
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, whole
	}
	return 0, whole
}

// Available reports whether c's bucket holds a token at now, taking none.
func (l *Limiter) Available(c Client, now time.Time) bool {
	r, b, _ := l.share(c)
	return l.bucket(c.ID, r, b, now).TokensAt(now) >= 1
}

// Burst is the most tokens c's bucket holds on this instance (its share of
// c's burst): the largest batch c may send.
func (l *Limiter) Burst(c Client) int {
	_, b, _ := l.share(c)
	return b
}

// bucket returns client id's limiter, set to rate r and burst b (a client
// whose record changed, or whose share changed with the number of
// instances, gets its new settings; tokens above a lowered burst are
// dropped).
func (l *Limiter) bucket(id string, r rate.Limit, b int, now time.Time) *rate.Limiter {
	l.mu.RLock()
	bk := l.buckets[id]
	due := now.Sub(l.lastSweep) >= l.idleAfter()/2
	l.mu.RUnlock()
	if bk == nil {
		l.mu.Lock()
		if bk = l.buckets[id]; bk == nil {
			if l.buckets == nil {
				l.buckets = make(map[string]*bucket)
			}
			bk = &bucket{lim: rate.NewLimiter(r, b)}
			bk.lastUsed.Store(now.UnixNano())
			l.buckets[id] = bk
		}
		l.mu.Unlock()
	}
	// Marked used before a sweep, which must not drop it.
	bk.lastUsed.Store(now.UnixNano())
	if due {
		l.mu.Lock()
		l.sweep(now)
		l.mu.Unlock()
	}
	if bk.lim.Limit() != r {
		bk.lim.SetLimitAt(now, r)
	}
	if bk.lim.Burst() != b {
		bk.lim.SetBurstAt(now, b)
	}
	return bk.lim
}

// sweep drops the buckets idle for IdleAfter, and at least long enough to
// have refilled: a new bucket then gives nothing a kept one would not.
// l.mu must be held for writing.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.idleAfter()/2 {
		return
	}
	l.lastSweep = now
	for id, bk := range l.buckets {
		idle := now.Sub(time.Unix(0, bk.lastUsed.Load()))
		refill := time.Duration(float64(bk.lim.Burst()) / float64(bk.lim.Limit()) * float64(time.Second))
		if idle >= l.idleAfter() && idle >= refill {
			delete(l.buckets, id)
		}
	}
}

// Len returns the number of buckets kept.
func (l *Limiter) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.buckets)
}

// LimitMiddleware limits the rate of each client's requests with l. It must
// run after Middleware, whose client it reads; a request without one goes
// through. Past the limit it sets Retry-After (whole seconds, at least 1)
// and calls onError with an error web.Classify maps to
// web.TooManyRequests.
func LimitMiddleware(l *Limiter, onError func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := ClientFrom(r.Context())
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			wait, limit := l.Reserve(c, time.Now())
			if wait == 0 {
				next.ServeHTTP(w, r)
				return
			}
			s := retryAfter(wait)
			w.Header().Set("Retry-After", s)
			onError(w, r, web.Errorf(web.TooManyRequests, "rate limit of "+
				strconv.FormatFloat(float64(limit), 'f', -1, 64)+" lookups per second exceeded for this client; retry after "+s+" s"))
		})
	}
}

// retryAfter is the value of a Retry-After header for wait: whole seconds,
// at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.FormatInt(max(int64(math.Ceil(wait.Seconds())), 1), 10)
}
