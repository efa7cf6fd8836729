package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// metrics are the service's Prometheus metrics, served on their own
// listener so that they never share the API's exposure.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aglae_http_requests_total",
			Help: "HTTP requests by route pattern, status code and answered statut (empty when no lookup was answered).",
		}, []string{"route", "code", "statut"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aglae_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *metrics) observe(route string, status int, statut string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status), statut).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// watchPool exports the database pool's state.
func (m *metrics) watchPool(pool *postgres.Pool) {
	gauge := func(name, help string, f func(*postgres.PoolStat) float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return f(pool.Stat()) }))
	}
	gauge("aglae_db_pool_connections_total", "Connections open in the pool.", func(s *postgres.PoolStat) float64 { return float64(s.TotalConns()) })
	gauge("aglae_db_pool_connections_acquired", "Connections in use.", func(s *postgres.PoolStat) float64 { return float64(s.AcquiredConns()) })
	gauge("aglae_db_pool_connections_idle", "Idle connections.", func(s *postgres.PoolStat) float64 { return float64(s.IdleConns()) })
	gauge("aglae_db_pool_connections_max", "Largest pool size.", func(s *postgres.PoolStat) float64 { return float64(s.MaxConns()) })
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "aglae_db_pool_acquire_waits_total", Help: "Acquisitions that had to wait for a connection.",
	}, func() float64 { return float64(pool.Stat().EmptyAcquireCount()) }))
}

// watchJournal exports the consultation log's queue, spool and counts.
func (m *metrics) watchJournal(j *journal.Journal) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aglae_consultations_queued", Help: "Consultation records in memory, waiting for the database."},
			func() float64 { return float64(j.Stats().Queued) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aglae_consultations_spooled", Help: "Consultation records in the spool files, waiting for the database."},
			func() float64 { return float64(j.Stats().Spooled) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "aglae_consultations_written_total", Help: "Consultation records written to the database."},
			func() float64 { return float64(j.Stats().Written) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "aglae_consultations_write_errors_total", Help: "Failed writes of the consultation log (each retry counts)."},
			func() float64 { return float64(j.Stats().WriteErrors) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "aglae_consultations_rejected_total", Help: "Consultation records the database refused as invalid, set aside in a rejetees file."},
			func() float64 { return float64(j.Stats().Rejected) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "aglae_consultations_lost_total", Help: "Consultation records that could be written nowhere; must stay 0."},
			func() float64 { return float64(j.Stats().Lost) }),
	)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
