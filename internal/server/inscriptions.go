package server

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// inscriptionMetrics counts the registration events processed, by outcome,
// and reads the job queue's states at each scrape: the discarded jobs are
// the dead letter, which must stay 0.
type inscriptionMetrics struct {
	processed *prometheus.CounterVec
}

func (m *metrics) watchInscriptions(ins *postgres.Inscriptions) *inscriptionMetrics {
	im := &inscriptionMetrics{processed: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aglae_inscriptions_processed_total",
		Help: "Registration events processed by this instance, by outcome.",
	}, []string{"etat"})}
	m.reg.MustRegister(im.processed, &jobsCollector{ins: ins})
	return im
}

func (im *inscriptionMetrics) observe(e bourse.EtatInscription) {
	im.processed.WithLabelValues(string(e)).Inc()
}

var (
	descJobs = prometheus.NewDesc("aglae_inscriptions_jobs", "Registration jobs in the queue, by state (pending, running, discarded: the dead letter).",
		[]string{"state"}, nil)
)

// jobsCollector reads the queue's counts when Prometheus scrapes.
type jobsCollector struct{ ins *postgres.Inscriptions }

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descJobs }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.ins.Jobs(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descJobs, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(st.Pending), "pending")
	ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(st.Running), "running")
	ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(st.Discarded), "discarded")
}

// queueRunner starts the registration events' worker, and keeps trying
// while the primary cannot be reached: as for the consultation log, a
// primary down when the service starts is not fatal (lookups go on from
// the replicas; the events wait in the database for the worker).
type queueRunner struct {
	stop chan struct{}
	done chan struct{}
	q    *postgres.Queue
	once sync.Once
	err  error
}

func runQueue(url string, o postgres.QueueOptions, log *zap.Logger) *queueRunner {
	r := &queueRunner{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			// Not a context with a deadline: river's client stops when the
			// context given to its Start is done. Connecting is bounded by
			// the pool's connect timeout.
			q, err := postgres.StartQueue(context.Background(), url, o)
			if err == nil {
				r.q = q
				return
			}
			log.Error("the registration events' worker could not start; retrying in 5 s", zap.Error(err))
			select {
			case <-r.stop:
				return
			case <-time.After(5 * time.Second):
			}
		}
	}()
	return r
}

// close stops trying, then stops the worker if it runs: the jobs in
// progress finish (or roll back) within ctx.
// Later calls return the first's error.
func (r *queueRunner) close(ctx context.Context) error {
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		if r.q != nil {
			r.err = r.q.Stop(ctx)
		}
	})
	return r.err
}
