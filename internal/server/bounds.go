package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// quota bounds how many of something are held at once: by one client
// (perClient), refused at once past it; and in all (max), waited for up
// to a given time past it. 0 is no bound.
type quota struct {
	perClient int
	slots     chan struct{} // the places of all clients; nil: no bound

	mu       sync.Mutex
	byClient map[string]int // only clients holding a place: it empties as they finish
}

func newQuota(max, perClient int) *quota {
	q := &quota{perClient: perClient, byClient: make(map[string]int)}
	if max > 0 {
		q.slots = make(chan struct{}, max)
	}
	return q
}

// take takes a place for client id, waiting up to wait (and while ctx
// lasts) for one of all clients' places. It reports false, and which
// bound refused it (clientFull: the client's own), when there is none.
func (q *quota) take(ctx context.Context, id string, wait time.Duration) (ok, clientFull bool) {
	q.mu.Lock()
	if q.perClient > 0 && q.byClient[id] >= q.perClient {
		q.mu.Unlock()
		return false, true
	}
	q.byClient[id]++
	q.mu.Unlock()
	if q.slots == nil {
		return true, false
	}
	select {
	case q.slots <- struct{}{}:
		return true, false
	default:
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case q.slots <- struct{}{}:
			return true, false
		case <-t.C:
		case <-ctx.Done():
		}
	}
	q.release(id)
	return false, false
}

// give gives back a place take gave client id.
func (q *quota) give(id string) {
	if q.slots != nil {
		<-q.slots
	}
	q.release(id)
}

func (q *quota) release(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byClient[id] <= 1 {
		delete(q.byClient, id)
	} else {
		q.byClient[id]--
	}
}

// held returns the places held in all and by client id.
func (q *quota) held(id string) (all, client int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.slots), q.byClient[id]
}

// perClient bounds the requests one authenticated client has in progress,
// slow bodies being read included: past max, 429 with Retry-After at once,
// so that one establishment's misbehaving chain never holds the places of
// the others (the global bound, shed, comes after it). It runs after
// authentication, which reads only the headers, and before the body is
// read. A request without a client goes through.
func perClient(max int, onError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	if max <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	q := newQuota(0, max)
	detail := "this client already has " + strconv.Itoa(max) + " requests in progress; retry in a second"
	return forClients(func(w http.ResponseWriter, r *http.Request, next http.Handler, c auth.Client) {
		if ok, _ := q.take(r.Context(), c.ID, 0); !ok {
			w.Header().Set("Retry-After", "1")
			onError(w, r, web.Errorf(web.TooManyRequests, detail))
			return
		}
		defer q.give(c.ID)
		next.ServeHTTP(w, r)
	})
}

// forClients is a middleware that serves the requests of an authenticated
// client with h, and lets the others through to next.
func forClients(h func(w http.ResponseWriter, r *http.Request, next http.Handler, c auth.Client)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := auth.ClientFrom(r.Context())
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			h(w, r, next, c)
		})
	}
}

// charge puts in every authenticated request's context the web.ChargeFunc
// of its batches: a batch of n identifiers costs n rate-limit tokens (the
// request paid one at the door, in auth.LimitMiddleware, which must run
// after this) and one of the batches in flight of q, waited for up to
// wait. A batch larger than the client's burst can never pass: 429
// without Retry-After, saying so.
func charge(l *auth.Limiter, q *quota, wait time.Duration) func(http.Handler) http.Handler {
	return forClients(func(w http.ResponseWriter, r *http.Request, next http.Handler, c auth.Client) {
		ctx := r.Context()
		f := func(n int) (func(), error) { return chargeBatch(ctx, w, l, q, wait, c, n) }
		next.ServeHTTP(w, r.WithContext(web.WithCharge(r.Context(), f)))
	})
}

func chargeBatch(ctx context.Context, w http.ResponseWriter, l *auth.Limiter, q *quota, wait time.Duration, c auth.Client, n int) (func(), error) {
	if b := l.Burst(c); n > b {
		return nil, web.Errorf(web.TooManyRequests, "a batch of "+strconv.Itoa(n)+" identifiers costs "+strconv.Itoa(n)+
			" lookups, more than this client's burst of "+strconv.Itoa(b)+": send batches of at most "+strconv.Itoa(b)+" identifiers")
	}
	ok, clientFull := q.take(ctx, c.ID, wait)
	switch {
	case clientFull:
		w.Header().Set("Retry-After", "1")
		return nil, web.Errorf(web.TooManyRequests, "this client already has "+strconv.Itoa(q.perClient)+" batches in progress; retry in a second")
	case !ok:
		w.Header().Set("Retry-After", "1")
		return nil, web.Errorf(web.Unavailable, "the service is answering as many batches as it can; retry in a second")
	}
	if n > 1 {
		if wait, limit := l.ReserveN(c, n-1, time.Now()); wait > 0 {
			q.give(c.ID)
			s := strconv.FormatInt(max(int64((wait+time.Second-1)/time.Second), 1), 10)
			w.Header().Set("Retry-After", s)
			return nil, web.Errorf(web.TooManyRequests, "rate limit of "+strconv.FormatFloat(float64(limit), 'f', -1, 64)+
				" lookups per second exceeded for this client (a batch of "+strconv.Itoa(n)+" identifiers costs "+strconv.Itoa(n)+"); retry after "+s+" s")
		}
	}
	return func() { q.give(c.ID) }, nil
}
