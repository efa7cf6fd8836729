package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
