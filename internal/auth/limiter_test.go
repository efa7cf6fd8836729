package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// limited serves through l; it returns the handler and the last error
// given to onError.
func limited(l *auth.Limiter) (http.Handler, *error) {
	var last error
	h := auth.LimitMiddleware(l, func(w http.ResponseWriter, r *http.Request, err error) {
		last = err
		k, _ := web.Classify(err)
		w.WriteHeader(k.Status)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	return h, &last
}

func as(c auth.Client) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/verifications", nil)
	return r.WithContext(auth.WithClient(r.Context(), c))
}

func TestLimiterBurstThen429(t *testing.T) {
	l := &auth.Limiter{Default: 1, DefaultBurst: 3}
	h, last := limited(l)
	c := auth.Client{ID: "uvsq00000000"}
	for i := range 3 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, as(c))
		require.Equal(t, http.StatusOK, w.Code, "request %d is within the burst", i+1)
		assert.Empty(t, w.Header().Get("Retry-After"))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, as(c))
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	k, detail := web.Classify(*last)
	assert.Equal(t, web.TooManyRequests, k)
	assert.Equal(t, "rate limit of 1 lookups per second exceeded for this client; retry after 1 s", detail)

	// Another client has its own bucket.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, as(auth.Client{ID: "other0000000"}))
	assert.Equal(t, http.StatusOK, w.Code)

	// A request without a client (an open route) is not limited here.
	for range 5 {
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		assert.Equal(t, http.StatusOK, w.Code)
	}
}

func TestLimiterPerClientSettings(t *testing.T) {
	l := &auth.Limiter{Default: 1000, DefaultBurst: 1000}
	h, last := limited(l)
	slow := auth.Client{ID: "slow00000000", Rate: 0.25, Burst: 2}
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, as(slow))
		require.Equal(t, http.StatusOK, w.Code)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, as(slow))
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "4", w.Header().Get("Retry-After"), "one token every 4 s")
	_, detail := web.Classify(*last)
	assert.Equal(t, "rate limit of 0.25 lookups per second exceeded for this client; retry after 4 s", detail)

	// A client whose record changes gets its new settings.
	slow.Burst = 10
	w = httptest.NewRecorder()
	h.ServeHTTP(w, as(slow))
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "a larger burst does not refill the bucket")
	slow.Rate = 1000
	h.ServeHTTP(httptest.NewRecorder(), as(slow)) // sets the new rate
	time.Sleep(10 * time.Millisecond)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, as(slow))
	assert.Equal(t, http.StatusOK, w.Code, "a higher rate refills it quickly")
}

func TestLimiterDefaults(t *testing.T) {
	var l auth.Limiter
	now := time.Now()
	c := auth.Client{ID: "client000000"}
	for i := range auth.DefaultBurst {
		wait, limit := l.Reserve(c, now)
		require.Zero(t, wait, "request %d", i)
		require.Equal(t, auth.DefaultRate, limit)
	}
	wait, _ := l.Reserve(c, now)
	assert.Equal(t, time.Second/time.Duration(auth.DefaultRate), wait)
	assert.Equal(t, rate.Limit(200), auth.DefaultRate)
}

func TestLimiterEvictsIdleClients(t *testing.T) {
	l := &auth.Limiter{Default: 10, DefaultBurst: 10, IdleAfter: time.Minute}
	t0 := time.Now()
	for i := range 100 {
		l.Reserve(auth.Client{ID: "client" + string(rune('a'+i%26)) + string(rune('a'+i/26))}, t0)
	}
	assert.Equal(t, 100, l.Len())

	busy := auth.Client{ID: "busy00000000"}
	l.Reserve(busy, t0.Add(30*time.Second))
	assert.Equal(t, 101, l.Len(), "not idle long enough")
	l.Reserve(busy, t0.Add(2*time.Minute))
	assert.Equal(t, 1, l.Len(), "the idle clients' buckets are gone")

	// A bucket that has not refilled yet is kept however long IdleAfter is.
	slow := auth.Client{ID: "slow00000000", Rate: 0.001, Burst: 5}
	for range 5 {
		l.Reserve(slow, t0.Add(2*time.Minute))
	}
	l.Reserve(busy, t0.Add(10*time.Minute))
	assert.Equal(t, 2, l.Len())
	wait, _ := l.Reserve(slow, t0.Add(10*time.Minute))
	assert.Greater(t, wait, time.Duration(0), "its tokens were not given back by an eviction")
}
