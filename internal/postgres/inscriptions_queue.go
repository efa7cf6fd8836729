package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// newRiverClient returns a river client on pool, in schema river; with
// workers it can work jobs, without it only inserts them.
func newRiverClient(pool *pgxpool.Pool, cfg *river.Config) (*river.Client[pgx.Tx], error) {
	if cfg == nil {
		cfg = &river.Config{}
	}
	cfg.Schema = RiverSchema
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return c, nil
}

// QueueOptions configures the worker of the registration events.
type QueueOptions struct {
	Workers int // events processed at once; 0: 16
	// PollInterval is how often the queue is polled besides river's
	// notifications; 0: river's default (1 s).
	PollInterval time.Duration
	// OnProcessed is called after each event is processed, with its state.
	OnProcessed func(bourse.EtatInscription)
	// RescueAfter is how long a job may stay running before it is taken for
	// the job of a crashed instance and run again; a job is cancelled after
	// half of it. 0: a minute.
	RescueAfter time.Duration
	Logger      *slog.Logger
}

// Queue works the registration events' jobs: each job processes its
// event (Inscriptions.Process) and completes in the same transaction, so
// that a crash at any point leaves the event either untouched with its job
// to run again, or processed with its job done. A failing job is retried
// with river's exponential backoff, up to 10 attempts, then discarded: the
// dead letter.
type Queue struct {
	client *river.Client[pgx.Tx]
	pool   *pgxpool.Pool
}

type traiterWorker struct {
	river.WorkerDefaults[traiterArgs]
	store *Inscriptions
	done  func(bourse.EtatInscription)
}

func (w *traiterWorker) Work(ctx context.Context, job *river.Job[traiterArgs]) error {
	etat, err := w.store.Process(ctx, job.Args.IdRecu, []bourse.EtatInscription{bourse.EtatRecu}, func(tx pgx.Tx) error {
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	if err == nil && w.done != nil {
		w.done(etat)
	}
	return err
}

// StartQueue starts working the events' jobs until Stop, on a pool of
// its own to the database at url: the jobs in progress and river's
// listener never take the connections of the intake and the lookups.
func StartQueue(ctx context.Context, url string, o QueueOptions) (*Queue, error) {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = time.Minute
	}
	cfg, err := config(url)
	if err != nil {
		return nil, err
	}
	// A connection per worker, river's listener, its fetches and its
	// maintenance.
	cfg.MaxConns = int32(o.Workers + 4)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate("job queue", err)
	}
	store, err := NewInscriptions(pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &traiterWorker{store: store, done: o.OnProcessed}); err != nil {
		pool.Close()
		return nil, err
	}
	c, err := newRiverClient(pool, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:           workers,
		FetchPollInterval: o.PollInterval,
		// River fetches at most the free workers' worth of jobs, then waits
		// this long: its default (100 ms) capped processing at 10 fetches
		// a second.
		FetchCooldown:        5 * time.Millisecond,
		Logger:               o.Logger,
		JobTimeout:           o.RescueAfter / 2,
		RescueStuckJobsAfter: o.RescueAfter,
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: c, pool: pool}, nil
}

// Stop lets the jobs in progress finish within ctx, then stops.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	q.pool.Close()
	return err
}

// JobStats are the registration jobs by state.
type JobStats struct {
	Pending   int64 // available, scheduled or retryable: not worked yet, or to retry
	Running   int64
	Discarded int64 // the dead letter: failed 10 times
}

// Jobs counts the registration jobs by state. Errors are of kind
// Unavailable or Internal.
func (s *Inscriptions) Jobs(ctx context.Context) (JobStats, error) {
	var st JobStats
	err := retryRead(ctx, "registration jobs", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE state IN ('available', 'scheduled', 'retryable', 'pending')),
			count(*) FILTER (WHERE state = 'running'),
			count(*) FILTER (WHERE state = 'discarded')
			FROM `+RiverSchema+`.river_job WHERE kind = 'inscription'`).Scan(&st.Pending, &st.Running, &st.Discarded)
	})
	return st, err
}

// DeadJob is a discarded job: its event, its attempts and its last error.
type DeadJob struct {
	ID        int64
	IdRecu    string
	Attempts  int
	LastError string
	At        time.Time
}

// Discarded lists the dead letter: the events whose processing failed
// every attempt, most recent first, at most limit. Errors are of kind
// Unavailable or Internal.
func (s *Inscriptions) Discarded(ctx context.Context, limit int) ([]DeadJob, error) {
	var out []DeadJob
	err := retryRead(ctx, "discarded registration jobs", func(ctx context.Context) error {
		out = out[:0]
		rows, err := s.pool.Query(ctx, `SELECT id, args->>'idRecu', attempt, coalesce(errors[array_length(errors, 1)]->>'error', ''),
			coalesce(finalized_at, created_at)
			FROM `+RiverSchema+`.river_job WHERE kind = 'inscription' AND state = 'discarded'
			ORDER BY finalized_at DESC NULLS LAST LIMIT $1`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d DeadJob
			if err := rows.Scan(&d.ID, &d.IdRecu, &d.Attempts, &d.LastError, &d.At); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// Retry puts discarded job id back in the queue.
func (s *Inscriptions) Retry(ctx context.Context, id int64) error {
	_, err := s.queue.JobRetry(ctx, id)
	return translate("retry registration job", err)
}
