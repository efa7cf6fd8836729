package journal_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
)

// fakePartitioner records the times it is called with, and fails while
// failing is set.
type fakePartitioner struct {
	mu      sync.Mutex
	calls   []time.Time
	failing bool
}

func (f *fakePartitioner) MakePartitions(ctx context.Context, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, now)
	if f.failing {
		return 0, bourse.Unavailable("create the consultation log's partitions", errors.New("lock timeout"))
	}
	return 1, nil
}

func (f *fakePartitioner) set(failing bool) {
	f.mu.Lock()
	f.failing = failing
	f.mu.Unlock()
}

func (f *fakePartitioner) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// TestPartitionsDaily: the writer creates the partitions before its first
// batch of each day (Paris time, on the journal's clock); a failure holds
// no batch back and is retried a minute later.
func TestPartitionsDaily(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Date(2025, 9, 1, 10, 0, 0, 0, bourse.Paris)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	move := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	p := &fakePartitioner{}
	store := &fakeStore{}
	j := open(t, journal.Options{Store: store, SpoolDir: t.TempDir(), Now: clock, Partitions: p})
	written := 0
	record := func() {
		t.Helper()
		j.Record(sample(written))
		written++
		waitFor(t, j, 5*time.Second, func(st journal.Stats) bool { return st.Written == uint64(written) })
	}

	record()
	assert.Equal(t, 1, p.count(), "before the first batch")
	record()
	assert.Equal(t, 1, p.count(), "once a day")

	move(14 * time.Hour) // 00:00 the next day, Paris time
	p.set(true)
	record()
	assert.Equal(t, 2, p.count(), "a new day")
	move(30 * time.Second)
	record()
	assert.Equal(t, 2, p.count(), "a failure is retried a minute later, not at every batch")
	move(time.Minute)
	p.set(false)
	record()
	assert.Equal(t, 3, p.count())
	record()
	assert.Equal(t, 3, p.count())
	assert.Len(t, store.requestIDs(), written, "no batch was held back")
}
