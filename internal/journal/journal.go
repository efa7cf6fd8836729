// Package journal is the consultation log: every answered lookup is
// recorded (who asked, about whom, what was answered and the internal
// reason why) in the table connecteur.consultation, for the CROUS.
//
// # Writing
//
// [Journal.Record] is on the request path: it appends the record to an
// in-memory queue under a mutex and returns; it never waits on the
// database nor on the disk. One writer goroutine writes the queue in
// batches, group-commit style and without any timer: it takes everything
// queued (up to Options.BatchMax records) and COPYs it in one
// transaction; while it writes, new records queue up for the next batch.
// At a low rate every record is written at once, at a high rate batches
// grow by themselves. With Options.Linger, a COPY starts at most once per
// Linger (unless BatchMax records are waiting): each COPY costs PostgreSQL
// a fixed price (a transaction, a commit's flush, the follow-up's statement
// triggers, about 2 ms of CPU) that batches of a few records, as a moderate
// rate makes them, paid per record.
//
// # Outages: nothing is ever silently dropped
//
// When a write fails because the database cannot take it (down, refusing
// connections, a permission or a table missing…), the writer keeps the
// batch and retries with a backoff (100 ms doubling up to 5 s). Meanwhile
// records wait in memory up to Options.MemoryLimit; beyond it a spooler
// goroutine appends them to spool files in Options.SpoolDir: JSON Lines, one
// [Consultation] a line, fsynced after every append, mode 0600 in a
// directory of mode 0700 (they hold personal data). A spool is made of
// segments of at most BatchMax records, named consultations-*.jsonl and
// replayed in name order.
//
// When the database answers again, the writer writes the spool first,
// segment by segment, removing a segment only after the COPY of its records
// committed, then the memory. A crash (or a failed removal) between the
// commit of a segment's COPY and the removal of its file makes that segment
// replay again at the next start: records may then be duplicated, never
// lost. A clean path (outage, shutdown, restart, replay) duplicates nothing.
//
// Records the database refuses as invalid (SQLSTATE classes 22 and 23: a
// bug upstream, never an outage) are isolated by bisecting the batch, set
// aside durably in a rejetees-*.jsonl file of the spool directory for an
// operator, counted in [Stats].Rejected and logged (the count, never the
// content), so that one bad record cannot block the log.
//
// # Shutdown
//
// [Journal.Close] stops accepting records into memory, writes what is
// queued to the database if it answers within the context given, else to
// the spool, and returns when every record is durable somewhere. A record
// made after Close is appended to the spool synchronously. [Open] replays
// whatever spool a previous run left, in the background.
//
// Nothing here logs an identifier, a name or any field of a record: only
// counts, durations, file names and error codes.
package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Consultation is one answered lookup, as recorded. Empty strings are
// stored as NULL in the nullable columns. The JSON tags are the spool's
// format.
type Consultation struct {
	Horodatage       time.Time     `json:"horodatage"`
	ClientID         string        `json:"client_id"`
	UAI              string        `json:"uai,omitempty"`
	Canal            bourse.Canal  `json:"canal"`
	Identifiant      string        `json:"identifiant,omitempty"` // normalised; "" for a lookup by identity only
	Annee            int           `json:"annee_universitaire"`
	Statut           string        `json:"statut"`
	TypeDecision     string        `json:"type_decision,omitempty"`
	Echelon          string        `json:"echelon,omitempty"`
	Raison           string        `json:"raison"`
	Correspondance   string        `json:"correspondance,omitempty"`
	IdentifiantAglae string        `json:"identifiant_aglae,omitempty"`
	NumeroDossier    string        `json:"numero_dossier,omitempty"`
	Anomalie         string        `json:"anomalie,omitempty"`
	RequestID        string        `json:"request_id"`
	Latency          time.Duration `json:"latence_ns"`
}

// Defaults of [Options].
const (
	DefaultMemoryLimit = 100_000
	DefaultBatchMax    = 5_000
)

// Options configures a [Journal].
type Options struct {
	// Store is the database the log is written to
	// (postgres.NewConsultations). Required. Close the journal before the
	// store's pool: a journal whose pool is closed spools.
	Store Store
	// SpoolDir holds the spool files; "" means [DefaultSpoolDir]. It is
	// created with mode 0700 and must belong to the process's user.
	SpoolDir string
	// MemoryLimit is the number of records kept in memory (the queue and
	// the batch being written) while the database cannot take them, or
	// hangs; beyond it they are spooled. Default 100,000 (about 30 MB). A
	// COPY takes at most min(BatchMax, MemoryLimit) records.
	MemoryLimit int
	// BatchMax is the largest number of records written by one COPY, and
	// the size of a spool segment. Default 5,000.
	BatchMax int
	// Logger receives counts and errors, never a record's content. Default:
	// no log.
	Logger *zap.Logger
	// Now is the clock the [Tracer] stamps and times consultations with.
	// Default: time.Now.
	Now func() time.Time
	// Linger is the least time between the starts of two COPYs from
	// memory: records that arrive meanwhile wait, in memory, to go in the
	// next one, unless BatchMax of them are waiting or the journal is
	// closing. A record arriving after a quiet spell is written at once.
	// Records are never delayed on the request path, only in the log's
	// queue. 0 (the default): no wait.
	Linger time.Duration
	// Partitions, when set, creates the log's month partitions ahead: the
	// writer calls it before its first batch of every day (Paris time, on
	// Now's clock). Its failures are logged and retried a minute later;
	// they never hold a batch back.
	Partitions Partitioner
}

// DefaultSpoolDir is where the spool lives when Options.SpoolDir is empty:
// $STATE_DIRECTORY/consultations when systemd sets STATE_DIRECTORY (the
// first one when it lists several; StateDirectory= in the unit), else
// os.TempDir()/aglae-connector-spool. A temporary directory may not survive
// a reboot: production should run under systemd with StateDirectory= or set
// the spool directory explicitly.
func DefaultSpoolDir() string {
	if s := os.Getenv("STATE_DIRECTORY"); s != "" {
		first, _, _ := strings.Cut(s, ":")
		if first != "" {
			return filepath.Join(first, "consultations")
		}
	}
	return filepath.Join(os.TempDir(), "aglae-connector-spool")
}

// Stats are the journal's counters, for metrics.
type Stats struct {
	Queued      int    // records in memory, waiting for the database
	Spooled     int    // records in the spool files, waiting for the database
	Written     uint64 // records COPYed since Open
	Batches     uint64 // COPYs that committed since Open
	WriteErrors uint64 // COPYs that failed since Open (each retry counts)
	Rejected    uint64 // records the database refused as invalid, set aside in a rejetees-*.jsonl file
	SpoolErrors uint64 // failed moves of records beyond the memory limit to the spool (they stayed in memory)
	Lost        uint64 // records that could be written nowhere (the spool failed too); should stay 0
}

// Backoff of the retries while the database is down, and the longest a
// COPY may take.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 5 * time.Second
	copyTimeout = 30 * time.Second
	// logEvery spaces out the warnings of a long outage.
	logEvery = time.Minute
)

// Journal is the consultation log. Its methods are safe for concurrent use.
type Journal struct {
	store    Store
	now      func() time.Time
	log      *zap.Logger
	memLimit int
	batchMax int
	linger   time.Duration
	spool    *spool

	mu       sync.Mutex
	mem      queue // queued, oldest first
	inflight int   // records of the writer's batch taken from mem
	closed   bool

	wake  chan struct{} // to the writer: mem is no longer empty
	full  chan struct{} // to the writer: mem holds a whole batch, stop lingering
	spill chan struct{} // to the spooler: memory is over its limit
	stop  chan struct{} // closed by Close

	runCtx    context.Context // cancelled when Close's context is done
	cancelRun context.CancelFunc

	writerDone  chan struct{}
	spoolerDone chan struct{}

	parts partitions // the writer's only

	closeOnce sync.Once
	closeErr  error
	errMu     sync.Mutex
	spoolErr  error // the first error writing the spool at shutdown

	written, batches, writeErrors, rejected, spoolErrors, lost atomic.Uint64
}

// Open starts a journal: it prepares the spool directory, takes its lock
// (one journal per spool directory), and starts the writer, which first
// replays in the background any spool a previous run left. ctx bounds Open
// only; the journal runs until Close.
func Open(ctx context.Context, opts Options) (*Journal, error) {
	if opts.Store == nil {
		return nil, errors.New("journal: Options.Store is required")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	if opts.BatchMax <= 0 {
		opts.BatchMax = DefaultBatchMax
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = DefaultSpoolDir()
	}
	log := opts.Logger.Named("journal")
	sp, err := openSpool(opts.SpoolDir, opts.BatchMax, log)
	if err != nil {
		return nil, err
	}
	j := &Journal{
		store:       opts.Store,
		now:         opts.Now,
		log:         log,
		memLimit:    opts.MemoryLimit,
		batchMax:    opts.BatchMax,
		linger:      max(opts.Linger, 0),
		spool:       sp,
		wake:        make(chan struct{}, 1),
		full:        make(chan struct{}, 1),
		spill:       make(chan struct{}, 1),
		stop:        make(chan struct{}),
		writerDone:  make(chan struct{}),
		spoolerDone: make(chan struct{}),
		parts:       partitions{p: opts.Partitions},
	}
	j.runCtx, j.cancelRun = context.WithCancel(context.Background())
	if n := sp.count(); n > 0 {
		log.Info("consultation log: replaying the spool left by a previous run",
			zap.Int("records", n), zap.String("spool_dir", sp.dir))
	}
	go j.writer()
	go j.spooler()
	return j, nil
}

// Record queues c for the database and returns at once: it never waits on
// the database nor on the disk, and never drops c. After Close, c is
// appended to the spool synchronously.
func (j *Journal) Record(c Consultation) {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		j.recordAfterClose(c)
		return
	}
	j.mem.push(c)
	n := j.mem.len()
	over := n+j.inflight > j.memLimit
	j.mu.Unlock()
	if n == 1 {
		signal(j.wake)
	}
	if n == j.batchMax {
		signal(j.full)
	}
	if over {
		signal(j.spill)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (j *Journal) recordAfterClose(c Consultation) {
	if _, err := j.spool.append([]Consultation{c}); err != nil {
		j.lost.Add(1)
		j.log.Error("consultation log: a record made after Close could not be spooled: 1 record LOST",
			zap.Int("lost", 1), safeErr(err))
	}
}

// Close stops the journal gracefully: records queued in memory are written
// to the database if it answers before ctx is done, else appended to the
// spool (an unfinished COPY is cancelled when ctx is done). It returns nil
// once every record is durable, in the database or in the spool; an error
// only when the spool could not be written, in which case the number of
// records lost is logged. It is what a SIGTERM handler calls, before
// closing the pool. Close is idempotent; Record stays usable after it.
func (j *Journal) Close(ctx context.Context) error {
	j.closeOnce.Do(func() {
		j.mu.Lock()
		j.closed = true
		j.mu.Unlock()
		close(j.stop)
		stopWatch := context.AfterFunc(ctx, j.cancelRun)
		<-j.spoolerDone
		<-j.writerDone
		stopWatch()
		j.cancelRun()
		// What the spooler may have put back after a failure.
		if rest := j.takeAll(nil); len(rest) > 0 {
			j.spoolOrLose(rest)
		}
		j.spool.close()
		st := j.Stats()
		j.log.Info("consultation log closed", zap.Uint64("written", st.Written),
			zap.Int("spooled", st.Spooled), zap.Uint64("rejected", st.Rejected), zap.Uint64("lost", st.Lost))
		j.errMu.Lock()
		j.closeErr = j.spoolErr
		j.errMu.Unlock()
	})
	return j.closeErr
}

// Stats returns the journal's counters.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	q := j.mem.len() + j.inflight
	j.mu.Unlock()
	return Stats{
		Queued:      q,
		Spooled:     j.spool.count(),
		Written:     j.written.Load(),
		Batches:     j.batches.Load(),
		WriteErrors: j.writeErrors.Load(),
		Rejected:    j.rejected.Load(),
		SpoolErrors: j.spoolErrors.Load(),
		Lost:        j.lost.Load(),
	}
}

func (j *Journal) stopping() bool {
	select {
	case <-j.stop:
		return true
	default:
		return false
	}
}

// take moves the oldest queued records into buf: up to batchMax, and no
// more than the memory limit, so that a batch the database hangs on keeps
// within it.
func (j *Journal) take(buf []Consultation) []Consultation {
	j.mu.Lock()
	defer j.mu.Unlock()
	buf = j.mem.popFront(buf[:0], min(j.batchMax, j.memLimit))
	j.inflight = len(buf)
	return buf
}

// takeAll empties the queue and returns it after batch (the writer's
// in-memory batch, or nil).
func (j *Journal) takeAll(batch []Consultation) []Consultation {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.mem.popFront(slices.Clone(batch), j.mem.len())
	j.inflight = 0
	return out
}

func (j *Journal) setInflight(n int) {
	j.mu.Lock()
	j.inflight = n
	j.mu.Unlock()
}

// spoolOrLose appends recs to the spool at shutdown; if that fails they are
// lost, which is counted, logged loudly and returned by Close.
func (j *Journal) spoolOrLose(recs []Consultation) {
	if n, err := j.spool.append(recs); err != nil {
		lost := len(recs) - n
		j.lost.Add(uint64(lost))
		j.log.Error("consultation log: the spool could not be written at shutdown: records LOST",
			zap.Int("lost", lost), zap.String("spool_dir", j.spool.dir), safeErr(err))
		j.errMu.Lock()
		if j.spoolErr == nil {
			j.spoolErr = fmt.Errorf("journal: %d consultation records could not be spooled: %w", lost, err)
		}
		j.errMu.Unlock()
	}
}

// writer is the only goroutine that writes to the database.
func (j *Journal) writer() {
	defer close(j.writerDone)
	var (
		spare   []Consultation
		batch   []Consultation // the records being written
		seg     *segment       // the spool segment batch comes from; nil: from memory
		backoff = minBackoff
		out     outage
		last    time.Time // when the last COPY from memory started
	)
	for {
		closing := j.stopping()
		if len(batch) == 0 {
			seg = nil
			// The spool first, except at shutdown, when only memory matters:
			// the spool is durable already.
			if !closing {
				if s := j.spool.oldest(); s != nil {
					recs, err := j.spool.load(s, j)
					if err != nil {
						// Left on disk for the next start or an operator;
						// it must not block the rest.
						j.log.Error("consultation log: cannot read a spool segment; leaving it for the next start",
							zap.String("file", s.name), safeErr(err))
						continue
					}
					if len(recs) == 0 {
						j.spool.done(s)
						continue
					}
					batch, seg = recs, s
				}
			}
			if seg == nil {
				if !closing {
					j.lingerAfter(last)
				}
				batch = j.take(spare)
				if len(batch) > 0 {
					last = time.Now()
				}
			}
			if len(batch) == 0 {
				if closing {
					return
				}
				select {
				case <-j.wake:
				case <-j.stop:
				}
				continue
			}
		}

		j.maintainPartitions()
		n, err := j.write(j.runCtx, batch)
		if err == nil {
			out.recovered(j)
			backoff = minBackoff
			if seg != nil {
				j.spool.done(seg)
			} else {
				clear(batch)
				spare = batch[:0]
				j.setInflight(0)
			}
			batch = nil
			continue
		}

		// The database could not take the batch (or its end).
		j.writeErrors.Add(1)
		if n > 0 {
			batch = batch[n:]
			if seg != nil {
				j.spool.rewrite(seg, batch)
			} else {
				j.setInflight(len(batch))
			}
		}
		out.failed(j, err, j.Stats())
		if closing || j.stopping() {
			// Shutdown: no more retries, memory goes to the spool. A
			// segment's records are in their file already.
			var mine []Consultation
			if seg == nil {
				mine = batch
			}
			if recs := j.takeAll(mine); len(recs) > 0 {
				j.spoolOrLose(recs)
			}
			return
		}
		j.sleep(&backoff)
	}
}

// lingerAfter waits, when records are queued, until Linger has passed
// since last, a whole batch is queued, or Close.
func (j *Journal) lingerAfter(last time.Time) {
	if j.linger <= 0 || last.IsZero() {
		return
	}
	wait := j.linger - time.Since(last)
	if wait <= 0 {
		return
	}
	select {
	case <-j.full: // a stale signal at worst ends one wait early
	default:
	}
	j.mu.Lock()
	n := j.mem.len()
	j.mu.Unlock()
	if n == 0 || n >= j.batchMax {
		// Nothing to wait for (the writer waits for a record first), or
		// enough.
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-j.full:
	case <-j.stop:
	}
}

// sleep waits for the backoff, or until Close, and doubles the backoff.
func (j *Journal) sleep(backoff *time.Duration) {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	*backoff = min(2**backoff, maxBackoff)
	select {
	case <-t.C:
	case <-j.stop:
	}
}

// outage tracks a period of failures, to log its start, a reminder now and
// then, and its end, rather than every retry.
type outage struct {
	since, lastLog time.Time
	failures       int
}

func (o *outage) failed(j *Journal, err error, st Stats) {
	now := time.Now()
	o.failures++
	if o.since.IsZero() {
		o.since, o.lastLog = now, now
		j.log.Warn("consultation log: the database cannot take the records; keeping them in memory, then in the spool, and retrying",
			zap.Int("queued", st.Queued), zap.Int("spooled", st.Spooled), safeErr(err))
		return
	}
	if now.Sub(o.lastLog) >= logEvery {
		o.lastLog = now
		j.log.Warn("consultation log: the database still cannot take the records",
			zap.Duration("since", now.Sub(o.since).Round(time.Second)), zap.Int("failures", o.failures),
			zap.Int("queued", st.Queued), zap.Int("spooled", st.Spooled), safeErr(err))
	}
}

func (o *outage) recovered(j *Journal) {
	if o.since.IsZero() {
		return
	}
	st := j.Stats()
	j.log.Info("consultation log: the database takes the records again",
		zap.Duration("outage", time.Since(o.since).Round(time.Millisecond)), zap.Int("failures", o.failures),
		zap.Int("queued", st.Queued), zap.Int("spooled", st.Spooled))
	*o = outage{}
}

// spooler moves the records beyond the memory limit to the spool.
func (j *Journal) spooler() {
	defer close(j.spoolerDone)
	for {
		select {
		case <-j.spill:
		case <-j.stop:
			return
		}
		if err := j.spillOverflow(); err != nil {
			// They are back in memory; try again in a while.
			t := time.NewTimer(time.Second)
			select {
			case <-t.C:
				signal(j.spill)
			case <-j.stop:
				t.Stop()
				return
			}
		}
	}
}

// spillOverflow appends the newest records beyond the memory limit to the
// spool. If the spool fails they go back to memory: never dropped.
func (j *Journal) spillOverflow() error {
	j.mu.Lock()
	tail := j.mem.popBack(j.mem.len() + j.inflight - j.memLimit)
	j.mu.Unlock()
	if len(tail) == 0 {
		return nil
	}

	n, err := j.spool.append(tail)
	if err == nil {
		return nil
	}
	tail = tail[n:]
	j.log.Error("consultation log: cannot write the spool; the records stay in memory, beyond the limit",
		zap.Int("records", len(tail)), zap.String("spool_dir", j.spool.dir), safeErr(err))
	j.mu.Lock()
	for _, c := range tail {
		j.mem.push(c)
	}
	j.mu.Unlock()
	j.spoolErrors.Add(1) // once they are back in memory
	signal(j.wake)
	return err
}
