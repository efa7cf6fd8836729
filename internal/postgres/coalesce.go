package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// coalescer groups the lookups by identifier that arrive together into one
// query per round trip, group-commit style: a lookup that finds fewer than
// max queries in flight starts one for everything pending; the others wait
// for the next round, which starts as soon as a query returns. No timer is
// added: a lone lookup runs at once.
type coalescer struct {
	store *Store
	max   int

	mu       sync.Mutex
	pending  []*waiter
	inflight int
}

// waiter is one lookup waiting for its round.
type waiter struct {
	ctx         context.Context
	identifiant string
	annee       int16
	res         []bourse.Dossier
	err         error
	done        chan struct{}
}

// maxRound bounds the lookups of one query; maxWait bounds a round's
// query when no waiter carries a deadline.
const (
	maxRound = 1000
	maxWait  = 10 * time.Second
)

func (c *coalescer) dossiers(ctx context.Context, identifiant string, annee int) ([]bourse.Dossier, error) {
	w := &waiter{ctx: ctx, identifiant: identifiant, annee: int16(annee), done: make(chan struct{})}
	c.mu.Lock()
	c.pending = append(c.pending, w)
	lead := c.inflight < c.max
	if lead {
		c.inflight++
	}
	c.mu.Unlock()
	if lead {
		go c.lead()
	}
	select {
	case <-w.done:
		return w.res, w.err
	case <-ctx.Done():
		return nil, translate("lookup", ctx.Err())
	}
}

// lead runs rounds until nothing is pending.
func (c *coalescer) lead() {
	for {
		c.mu.Lock()
		n := min(len(c.pending), maxRound)
		if n == 0 {
			c.inflight--
			c.mu.Unlock()
			return
		}
		round := make([]*waiter, n)
		copy(round, c.pending)
		rest := copy(c.pending, c.pending[n:])
		clear(c.pending[rest:])
		c.pending = c.pending[:rest]
		c.mu.Unlock()
		c.run(round)
	}
}

// run answers one round with one query, run once more if its connection
// was dead. Waiters that gave up are left out.
func (c *coalescer) run(round []*waiter) {
	live := round[:0:0]
	deadline := time.Time{}
	for _, w := range round {
		if err := w.ctx.Err(); err != nil {
			// Its caller may read done before its own ctx.Done(): it must
			// find the error there, never an empty answer.
			w.err = translate("lookup", err)
			close(w.done)
			continue
		}
		live = append(live, w)
		if d, ok := w.ctx.Deadline(); ok && d.After(deadline) {
			deadline = d
		} else if !ok {
			deadline = time.Now().Add(maxWait)
		}
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ids := make([]string, len(live))
	annees := make([]int16, len(live))
	for i, w := range live {
		ids[i], annees[i] = w.identifiant, w.annee
	}
	err := retryRead(ctx, "batch lookup", func(ctx context.Context) error {
		for _, w := range live {
			w.res = nil
		}
		emit := func(i int, x bourse.Dossier) { live[i].res = append(live[i].res, x) }
		if len(live) == 1 {
			// A lone lookup, the usual case at a moderate rate.
			return c.store.one(ctx, ids[0], annees[0], emit)
		}
		return c.store.batch(ctx, ids, annees, emit)
	})
	for _, w := range live {
		if err != nil {
			w.res, w.err = nil, err
		}
		close(w.done)
	}
}
