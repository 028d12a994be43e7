// Package metrics defines Kefu's Prometheus collectors in one place. A
// Metrics value is built per server (never a package global) and passed to
// the components that update it.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type Metrics struct {
	Registry *prometheus.Registry

	Connections      *prometheus.GaugeVec   // role
	ConnectsTotal    *prometheus.CounterVec // role
	DisconnectsTotal *prometheus.CounterVec // reason
	FramesIn         *prometheus.CounterVec // type
	FramesOut        prometheus.Counter
	FrameErrors      *prometheus.CounterVec // code
	MessagesIn       *prometheus.CounterVec // sender_type
	MessagesOut      prometheus.Counter     // message frames queued to connections
	Duplicates       prometheus.Counter
	CommitSeconds    prometheus.Histogram
	CommitBatch      prometheus.Histogram
	HTTPRequests     *prometheus.CounterVec // route, code
	HTTPSeconds      *prometheus.HistogramVec
	Errors           *prometheus.CounterVec // where
	GapFills         prometheus.Counter
}

// New registers every collector, plus the Go runtime and process collectors
// (process_resident_memory_bytes is what the load generator reads).
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{Registry: r}
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m.Connections = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kefu_connections", Help: "Open WebSocket connections."}, []string{"role"})
	m.ConnectsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_connects_total", Help: "WebSocket connections accepted."}, []string{"role"})
	m.DisconnectsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_disconnects_total", Help: "WebSocket connections closed, by reason."}, []string{"reason"})
	m.FramesIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_frames_in_total", Help: "Client frames received, by type."}, []string{"type"})
	m.FramesOut = prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_frames_out_total", Help: "Server frames written."})
	m.FrameErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_frame_errors_total", Help: "Error frames sent, by code."}, []string{"code"})
	m.MessagesIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_messages_in_total", Help: "Messages committed, by sender type."}, []string{"sender_type"})
	m.MessagesOut = prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_messages_out_total", Help: "Message frames delivered to connections."})
	m.Duplicates = prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_messages_duplicate_total", Help: "Sends answered from an earlier commit (same client_msg_id)."})
	m.CommitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kefu_commit_seconds", Help: "Duration of one group commit (transaction including fsync).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}})
	m.CommitBatch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kefu_commit_batch_size", Help: "Messages per group commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}})
	m.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_http_requests_total", Help: "HTTP requests, by route pattern and status."}, []string{"route", "code"})
	m.HTTPSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kefu_http_request_seconds", Help: "HTTP request duration by route pattern.",
		Buckets: prometheus.DefBuckets}, []string{"route"})
	m.Errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_errors_total", Help: "Internal errors, by component."}, []string{"where"})
	m.GapFills = prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_gap_fills_total", Help: "Live deliveries that had to fill a seq gap from the store."})
	for _, c := range []prometheus.Collector{m.Connections, m.ConnectsTotal, m.DisconnectsTotal, m.FramesIn, m.FramesOut, m.FrameErrors,
		m.MessagesIn, m.MessagesOut, m.Duplicates, m.CommitSeconds, m.CommitBatch, m.HTTPRequests, m.HTTPSeconds, m.Errors, m.GapFills} {
		f(c)
	}
	return m
}

// ObserveCommit is the hook stores call after each group commit.
func (m *Metrics) ObserveCommit(n int, d time.Duration) {
	m.CommitSeconds.Observe(d.Seconds())
	m.CommitBatch.Observe(float64(n))
}
