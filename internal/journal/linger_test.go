package journal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/aglae-connector/aglae-connector/internal/journal"
)

// TestLingerGathersBatches: with a Linger, the first record after a quiet
// spell is written at once; those that follow wait for the next COPY until
// a whole batch is queued, and Close writes what still waits without
// waiting for the Linger.
func TestLingerGathersBatches(t *testing.T) {
	store := &fakeStore{}
	const batch = 10
	j := open(t, journal.Options{Store: store, SpoolDir: t.TempDir(), BatchMax: batch, Linger: time.Hour})
	j.Record(sample(0))
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.Written == 1 })

	// Within the hour: nothing is written before batch records wait.
	for i := 1; i <= batch; i++ {
		j.Record(sample(i))
	}
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool { return st.Written == 1+batch })
	assert.Equal(t, uint64(2), j.Stats().Batches, "the batch records went in one COPY")

	for i := batch + 1; i < batch+4; i++ {
		j.Record(sample(i))
	}
	closeJournal(t, j, 10*time.Second) // well within the Linger
	st := j.Stats()
	assert.Equal(t, uint64(batch+4), st.Written)
	assert.Equal(t, uint64(3), st.Batches)
	assert.Zero(t, st.Spooled)
	assert.Len(t, store.requestIDs(), batch+4)
}
