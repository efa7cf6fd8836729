package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// receiver groups the events that arrive together into one transaction,
// group-commit style (as coalescer does for lookups): an event that finds
// fewer than max transactions in flight starts one for everything pending;
// the others wait for the next, which starts as soon as one commits. No
// timer is added: a lone event commits at once. Each caller is answered
// only once its event is committed: durability is unchanged, the cost of a
// WAL flush is shared.
type receiver struct {
	s   *Inscriptions
	max int

	mu       sync.Mutex
	pending  []*arrival
	inflight int
}

// arrival is one event waiting for its transaction.
type arrival struct {
	clientID string
	in       bourse.Inscription
	res      Received
	created  bool
	err      error
	done     chan struct{}
}

// maxGroup bounds the events of one transaction; groupTimeout bounds a
// transaction, whatever its callers' deadlines (one caller giving up must
// not roll back the others' events).
const (
	maxGroup     = 500
	groupTimeout = 10 * time.Second
)

func (g *receiver) receive(ctx context.Context, clientID string, in bourse.Inscription) (bourse.Recu, bool, error) {
	a := &arrival{clientID: clientID, in: in, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, a)
	lead := g.inflight < g.max
	if lead {
		g.inflight++
	}
	g.mu.Unlock()
	if lead {
		go g.lead()
	}
	select {
	case <-a.done:
		if a.err != nil {
			return bourse.Recu{}, false, a.err
		}
		if a.res.err != nil {
			return bourse.Recu{}, false, a.res.err
		}
		return a.res.Recu, a.created, nil
	case <-ctx.Done():
		// The event may still be committed: a replay will find it.
		return bourse.Recu{}, false, translate("receive registration", ctx.Err())
	}
}

func (g *receiver) lead() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxGroup)
		if n == 0 {
			g.inflight--
			g.mu.Unlock()
			return
		}
		group := make([]*arrival, n)
		copy(group, g.pending)
		rest := copy(g.pending, g.pending[n:])
		clear(g.pending[rest:])
		g.pending = g.pending[:rest]
		g.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		items := make([]receiveItem, n)
		for i, a := range group {
			items[i] = receiveItem{clientID: a.clientID, in: a.in}
		}
		res, created, err := g.s.receiveItems(ctx, items)
		cancel()
		for i, a := range group {
			if err != nil {
				a.err = err
			} else {
				a.res, a.created = res[i], created[i]
			}
			close(a.done)
		}
	}
}
