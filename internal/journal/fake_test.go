package journal_test

// The journal's own logic, on fakes of its store: no database. What the
// database decides (what it refuses, the SQL of the export and the purge)
// is tested on a real one in package postgres, and the journal through it
// in journal_test.go.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/journal"
)

// fakeStore keeps what it is given; it refuses, all or nothing, a batch
// holding a record without canal (as the table's CHECK does), and fails
// every write while down.
type fakeStore struct {
	mu     sync.Mutex
	down   bool
	writes int
	recs   []journal.Consultation
}

func (f *fakeStore) Write(ctx context.Context, recs []journal.Consultation) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.down {
		return 0, bourse.Unavailable("write consultations", errors.New("connection refused"))
	}
	for _, c := range recs {
		if c.Canal == "" {
			return 0, &bourse.Error{Kind: bourse.KindInvalid, Message: "write consultations: SQLSTATE 23514"}
		}
	}
	f.recs = append(f.recs, recs...)
	return len(recs), nil
}

func (f *fakeStore) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeStore) requestIDs() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, c := range f.recs {
		out[c.RequestID]++
	}
	return out
}

// TestBisectInvalid: the batch holding an invalid record is bisected down
// to that record, which is set aside; the others are written, once.
func TestBisectInvalid(t *testing.T) {
	store := &fakeStore{}
	dir := t.TempDir()
	j := open(t, journal.Options{Store: store, SpoolDir: dir, BatchMax: 64})
	const N = 200
	for i := range N {
		c := sample(i)
		if i == 37 || i == 150 {
			c.Canal = ""
		}
		j.Record(c)
	}
	closeJournal(t, j, 10*time.Second)
	st := j.Stats()
	assert.Equal(t, uint64(N-2), st.Written)
	assert.Equal(t, uint64(2), st.Rejected)
	ids := store.requestIDs()
	assert.Len(t, ids, N-2)
	for id, n := range ids {
		assert.Equal(t, 1, n, "%s written %d times", id, n)
	}
	assert.NotContains(t, ids, "req-000037")
	files := spoolFiles(t, dir, "rejetees-")
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(b), "\n"))
	assert.Contains(t, string(b), `"request_id":"req-000037"`)
	assert.Contains(t, string(b), `"request_id":"req-000150"`)
}

// TestStoreDownThenUp: while the store fails, records wait in memory up to
// the limit and in the spool beyond it; when it answers again, every
// record is written once and the spool is emptied.
func TestStoreDownThenUp(t *testing.T) {
	store := &fakeStore{down: true}
	dir := t.TempDir()
	j := open(t, journal.Options{Store: store, SpoolDir: dir, MemoryLimit: 50, BatchMax: 20})
	const N = 500
	for i := range N {
		j.Record(sample(i))
	}
	waitFor(t, j, 10*time.Second, func(st journal.Stats) bool {
		return st.Spooled > 0 && st.Queued <= 50 && st.Queued+st.Spooled == N && st.WriteErrors > 0
	})
	assert.Zero(t, j.Stats().Written)
	store.setDown(false)
	waitFor(t, j, 20*time.Second, func(st journal.Stats) bool { return st.Written == N })
	closeJournal(t, j, 5*time.Second)
	st := j.Stats()
	assert.Zero(t, st.Spooled)
	assert.Zero(t, st.Lost)
	assert.Empty(t, spoolFiles(t, dir, "consultations-"))
	ids := store.requestIDs()
	assert.Len(t, ids, N)
	for id, n := range ids {
		assert.Equal(t, 1, n, "%s written %d times", id, n)
	}
}

// fakeSource answers the export with rows, whatever the filter, which it
// keeps.
type fakeSource struct {
	rows []journal.Row
	err  error // returned after the rows
	got  journal.Filter
}

func (f *fakeSource) Consultations(ctx context.Context, flt journal.Filter, each func(*journal.Row) error) error {
	f.got = flt
	for i := range f.rows {
		l := f.rows[i]
		if err := each(&l); err != nil {
			return err
		}
	}
	return f.err
}

func str(s string) *string { return &s }

func exportRows() []journal.Row {
	return []journal.Row{
		{Horodatage: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC), ClientID: "uvsq", UAI: str("0781944P"), Canal: "SOAP",
			Annee: 2025, Statut: "EN_ATTENTE", Raison: "IDENTITE_AMBIGUE", RequestID: "r1", LatencyUS: 42},
		{Horodatage: time.Date(2025, 9, 3, 9, 0, 0, 123456000, time.UTC), ClientID: `integ, "X"`, UAI: str("0781944P"),
			Canal: "REST", Identifiant: str("1234567890A"), Annee: 2025, Statut: "BOURSIER", TypeDecision: str("DEFINITIVE"),
			Echelon: str("0bis"), Raison: "line\nbreak", Correspondance: str("IDENTIFIANT"), RequestID: "r2", LatencyUS: 1500},
	}
}

// TestExportFormats: the CSV (RFC 4180, a header, NULL as an empty field)
// and JSON Lines (NULL as null) formats, in Paris time; the filter goes to
// the source as given.
func TestExportFormats(t *testing.T) {
	ctx := context.Background()
	flt := journal.Filter{UAI: "0781944P", Since: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)}

	t.Run("csv", func(t *testing.T) {
		src := &fakeSource{rows: exportRows()}
		var buf bytes.Buffer
		n, err := journal.Export(ctx, src, flt, &buf, "csv")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, flt, src.got)
		assert.Contains(t, buf.String(), `"integ, ""X"""`, "RFC 4180 quoting")
		recs, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 3)
		assert.Equal(t, journal.Columns, recs[0])
		assert.Equal(t, []string{"2025-09-01T11:00:00.000000+02:00", "uvsq", "0781944P", "SOAP", "", "2025",
			"EN_ATTENTE", "", "", "IDENTITE_AMBIGUE", "", "", "", "", "r1", "42"}, recs[1])
		assert.Equal(t, []string{"2025-09-03T11:00:00.123456+02:00", `integ, "X"`, "0781944P", "REST", "1234567890A", "2025",
			"BOURSIER", "DEFINITIVE", "0bis", "line\nbreak", "IDENTIFIANT", "", "", "", "r2", "1500"}, recs[2])
	})

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := journal.Export(ctx, &fakeSource{rows: exportRows()}, flt, &buf, "json")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		require.Len(t, lines, 2)
		var first map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
		assert.Nil(t, first["identifiant"], "NULL is null")
		assert.Contains(t, first, "identifiant")
		assert.Equal(t, "2025-09-01T11:00:00+02:00", first["horodatage"])
		assert.Equal(t, float64(2025), first["annee_universitaire"])
		assert.Equal(t, "0781944P", first["uai"])
		assert.Equal(t, float64(42), first["latence_us"])
	})

	t.Run("bad format", func(t *testing.T) {
		src := &fakeSource{rows: exportRows()}
		_, err := journal.Export(ctx, src, journal.Filter{}, &bytes.Buffer{}, "xml")
		assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
		assert.Zero(t, src.got, "the source is not read")
	})

	t.Run("source error", func(t *testing.T) {
		down := bourse.Unavailable("export consultations", errors.New("connection reset"))
		n, err := journal.Export(ctx, &fakeSource{rows: exportRows(), err: down}, flt, &bytes.Buffer{}, "csv")
		assert.ErrorIs(t, err, down)
		assert.Equal(t, 2, n, "what was written before")
	})
}

// fakePurger records the cutoffs it is given, and fails when err is set.
type fakePurger struct {
	err     error
	cutoffs []time.Time
}

func (f *fakePurger) PurgeBefore(ctx context.Context, cutoff time.Time) (journal.PurgeResult, error) {
	f.cutoffs = append(f.cutoffs, cutoff)
	if f.err != nil {
		return journal.PurgeResult{}, f.err
	}
	return journal.PurgeResult{Months: []string{"2025-07"}}, nil
}

// TestPurge: the purge passes its cutoff to the store and returns its
// result or its error; a missing cutoff is refused before the store.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	cutoff := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)

	p := &fakePurger{}
	res, err := journal.Purge(ctx, p, cutoff)
	require.NoError(t, err)
	assert.Equal(t, []string{"2025-07"}, res.Months)
	assert.Equal(t, []time.Time{cutoff}, p.cutoffs)

	p = &fakePurger{err: bourse.Unavailable("purge consultations", errors.New("connection reset"))}
	_, err = journal.Purge(ctx, p, cutoff)
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err))

	p = &fakePurger{}
	_, err = journal.Purge(ctx, p, time.Time{})
	assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
	assert.Empty(t, p.cutoffs)
}
