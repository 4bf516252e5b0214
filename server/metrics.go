package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics has its own registry per App so tests can run several apps in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiltline_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tiltline_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// The counters show submissions and sign-ins as they happen, so /metrics
// is never open: it answers on the main address only with the bearer token
// (TILTLINE_METRICS_TOKEN), on its own address (TILTLINE_METRICS_ADDR) only
// there, and with neither set not at all.

// metricsPage is GET /metrics on the main address.
func (a *App) metricsPage(c echo.Context) error {
	if a.cfg.MetricsAddr != "" || a.cfg.MetricsToken == "" {
		return echo.ErrNotFound
	}
	a.MetricsHandler().ServeHTTP(c.Response(), c.Request())
	return nil
}

// MetricsHandler serves the counters, behind the token when one is set:
// the handler of the metrics address, and of /metrics on the main one.
func (a *App) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{})
	want := sha256.Sum256([]byte(a.cfg.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		if a.cfg.MetricsToken != "" {
			// Hashes of equal length: the comparison takes the same time
			// whatever was sent, and tells nothing of the token's length.
			got, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			sum := sha256.Sum256([]byte(got))
			if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !bearer {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "send the metrics token as Authorization: Bearer <token>", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
