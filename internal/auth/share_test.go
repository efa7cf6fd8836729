package auth_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"golang.org/x/time/rate"

	"github.com/aglae-connector/aglae-connector/internal/auth"
)

// instances is a fake auth.Instances.
type instances struct{ n atomic.Int64 }

func (i *instances) Live() int { return int(i.n.Load()) }

func newInstances(n int) *instances {
	i := &instances{}
	i.n.Store(int64(n))
	return i
}

func TestShare(t *testing.T) {
	for _, tc := range []struct {
		r     rate.Limit
		b, n  int
		wantR rate.Limit
		wantB int
	}{
		{200, 400, 0, 200, 400}, // not counted yet: alone
		{200, 400, 1, 200, 400},
		{200, 400, 2, 100, 200},
		{200, 400, 3, 200.0 / 3, 133}, // rounded down: 399 in all
		{20, 3, 4, 5, 1},              // never less than one token
	} {
		r, b := auth.Share(tc.r, tc.b, tc.n)
		assert.InDelta(t, float64(tc.wantR), float64(r), 1e-9, "rate of %v over %d", tc.r, tc.n)
		assert.Equal(t, tc.wantB, b, "burst of %d over %d", tc.b, tc.n)
	}
}

// take makes n requests of c at now through l and returns how many passed.
func take(l *auth.Limiter, c auth.Client, n int, now time.Time) int {
	ok := 0
	for range n {
		if wait, _ := l.Reserve(c, now); wait == 0 {
			ok++
		}
	}
	return ok
}

func TestLimiterFollowsTheNumberOfInstances(t *testing.T) {
	n := newInstances(1)
	l := &auth.Limiter{Instances: n}
	c := auth.Client{ID: "uvsq00000000", Rate: 20, Burst: 10}
	t0 := time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)
	assert.Equal(t, 10, l.Burst(c))

	// A second instance joins before c spent anything: this one's bucket
	// holds half the burst at once, not the ten tokens it had.
	assert.Equal(t, 0, take(l, c, 0, t0))
	n.n.Store(2)
	assert.Equal(t, 5, l.Burst(c))
	assert.Equal(t, 5, take(l, c, 20, t0))
	// It refills at half the rate: 10 per second.
	assert.Equal(t, 3, take(l, c, 20, t0.Add(300*time.Millisecond)))
	// and never above its share of the burst.
	assert.Equal(t, 5, take(l, c, 20, t0.Add(10*time.Second)))

	// The other one leaves: the whole rate and burst again, from the first
	// request after (the bucket is empty then).
	n.n.Store(1)
	t1 := t0.Add(10 * time.Second)
	assert.Equal(t, 0, take(l, c, 1, t1))
	assert.Equal(t, 6, take(l, c, 20, t1.Add(300*time.Millisecond)))
	assert.Equal(t, 10, take(l, c, 20, t1.Add(time.Minute)))

	// The refusal names the client's whole rate, not this instance's share.
	n.n.Store(4)
	_, limit := l.Reserve(c, t1.Add(time.Minute))
	assert.Equal(t, rate.Limit(20), limit)
}

// Two instances, each with its own limiter, one client sending to both as
// fast as it can for 3 s of a fake clock: together they let through the
// client's limit, rate × time + burst, not twice it.
func TestTwoLimitersTogetherHoldTheClientLimit(t *testing.T) {
	n := newInstances(2)
	a, b := &auth.Limiter{Instances: n}, &auth.Limiter{Instances: n}
	c := auth.Client{ID: "uvsq00000000", Rate: 20, Burst: 10}
	t0 := time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)
	passed := 0
	const span = 3 * time.Second
	for d := time.Duration(0); d <= span; d += 5 * time.Millisecond {
		passed += take(a, c, 1, t0.Add(d)) + take(b, c, 1, t0.Add(d+time.Millisecond))
	}
	limit := 20*span.Seconds() + 10 // 70
	assert.InDelta(t, limit, float64(passed), 0.1*limit, "passed %d, limit %v", passed, limit)
	assert.LessOrEqual(t, float64(passed), limit+1)
	t.Logf("two limiters let through %d requests of a %v limit", passed, limit)
}
