package main

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// tally collects the outcome of requests. add is for one goroutine; the
// counters may be read by another while it runs.
type tally struct {
	lat      []time.Duration
	n, errs  atomic.Int64
	kinds    map[string]int64
	examples map[string]string
}

func newTally() *tally {
	return &tally{kinds: map[string]int64{}, examples: map[string]string{}}
}

// maxKinds bounds the distinct error kinds kept; the rest count as "other".
const maxKinds = 20

// add records one request: its latency, and its error kind ("" for a
// correct answer) with an example of what was wrong.
func (t *tally) add(lat time.Duration, kind, example string) {
	t.lat = append(t.lat, lat)
	t.n.Add(1)
	if kind == "" {
		return
	}
	t.errs.Add(1)
	if _, ok := t.kinds[kind]; !ok && len(t.kinds) >= maxKinds {
		kind = "other"
	}
	t.kinds[kind]++
	if _, ok := t.examples[kind]; !ok && example != "" {
		t.examples[kind] = truncate(example, 300)
	}
}

// merge adds o's records to t.
func (t *tally) merge(o *tally) {
	t.lat = append(t.lat, o.lat...)
	t.n.Add(o.n.Load())
	t.errs.Add(o.errs.Load())
	for k, v := range o.kinds {
		if _, ok := t.kinds[k]; !ok && len(t.kinds) >= maxKinds {
			k = "other"
		}
		t.kinds[k] += v
		if _, ok := t.examples[k]; !ok && o.examples[k] != "" {
			t.examples[k] = o.examples[k]
		}
	}
}

// latencies summarises t's latencies, in milliseconds. It sorts them.
func (t *tally) latencies() latency {
	slices.Sort(t.lat)
	var sum time.Duration
	for _, d := range t.lat {
		sum += d
	}
	l := latency{
		P50: ms(quantile(t.lat, 0.50)), P90: ms(quantile(t.lat, 0.90)), P99: ms(quantile(t.lat, 0.99)),
		P999: ms(quantile(t.lat, 0.999)),
	}
	if n := len(t.lat); n > 0 {
		l.Max = ms(t.lat[n-1])
		l.Mean = ms(sum / time.Duration(n))
	}
	return l
}

// quantile is the nearest-rank q-quantile of sorted values.
func quantile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	i := int(q*float64(n)+0.999999999) - 1 // ceil(q·n) - 1
	return sorted[min(max(i, 0), n-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/1e6, 3) }

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checker judges one response: "" when it is the right answer, else the
// kind of error and an example.
type checker func(*vegeta.Result) (kind, example string)

// loadSpec is one vegeta attack.
type loadSpec struct {
	targeter    vegeta.Targeter
	check       checker
	connections int
	rate        int // requests per second; 0: closed loop, as fast as the connections go
	duration    time.Duration
	every       time.Duration                         // how often progress is called; 0: never
	progress    func(elapsed time.Duration, t *tally) // from another goroutine
}

// attack runs s with vegeta and returns the tally and the time from the
// first request to the last answer. Closed loop is vegeta's -rate=0 with
// -max-workers: exactly `connections` workers, each sending its next
// request when it has its answer, over at most `connections` keep-alive
// connections. Open loop (rate > 0) paces the requests and adds workers,
// up to 1,000, when the answers are late. The connections are closed at
// the end.
func attack(ctx context.Context, s loadSpec) (*tally, time.Duration) {
	// Our own transport, so that its connections can be closed at the end:
	// the server's goroutines and memory are then measured without them.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1000,
		MaxIdleConnsPerHost: 1000,
		IdleConnTimeout:     90 * time.Second,
	}
	defer tr.CloseIdleConnections()
	opts := []func(*vegeta.Attacker){vegeta.Client(&http.Client{Transport: tr}),
		vegeta.KeepAlive(true), vegeta.Timeout(30 * time.Second), vegeta.Redirects(vegeta.NoFollow)}
	pace := vegeta.Rate{}
	if s.rate == 0 {
		n := uint64(s.connections)
		opts = append(opts, vegeta.Workers(n), vegeta.MaxWorkers(n), vegeta.MaxConnections(s.connections), vegeta.Connections(s.connections))
	} else {
		opts = append(opts, vegeta.Workers(uint64(min(s.connections, 64))), vegeta.MaxWorkers(1000))
		pace = vegeta.Rate{Freq: s.rate, Per: time.Second}
	}
	atk := vegeta.NewAttacker(opts...)
	t := newTally()
	start := time.Now()
	results := atk.Attack(s.targeter, pace, s.duration, "") // no name: no X-Vegeta-Attack header

	finished, stopped := make(chan struct{}), make(chan struct{})
	defer func() { close(finished); <-stopped }()
	go func() {
		defer close(stopped)
		var tick <-chan time.Time
		if s.every > 0 && s.progress != nil {
			tk := time.NewTicker(s.every)
			defer tk.Stop()
			tick = tk.C
		}
		for {
			select {
			case <-ctx.Done():
				atk.Stop()
				return
			case <-finished:
				return
			case <-tick:
				s.progress(time.Since(start), t)
			}
		}
	}()

	var last time.Time
	for r := range results {
		kind, example := s.check(r)
		t.add(r.Latency, kind, example)
		if end := r.End(); end.After(last) {
			last = end
		}
	}
	el := last.Sub(start)
	if el <= 0 {
		el = time.Since(start)
	}
	return t, el
}

// transportKind names a transport error without its URL (which holds an
// identifier): what follows the last ": ".
func transportKind(err string) string {
	if i := strings.LastIndex(err, ": "); i >= 0 {
		err = err[i+2:]
	}
	return "transport: " + err
}
