// Package observe is authbot's window for operators: Prometheus metrics
// (commands by type, errors, latency, people) and a /healthz endpoint on an
// optional listen address. It implements commands.Observer, which is told
// only command words ("code", "add", "text", "unknown"), never what a
// person typed, so no secret, code or account name can reach a metric.
package observe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxLabelLen bounds label values. Platforms and command words are short
// fixed words; anything longer is a bug upstream, cut so a metric series
// can never carry a long string.
const maxLabelLen = 32

// Metrics holds authbot's collectors in a registry of its own (no global
// default registry: two instances in one test never collide).
type Metrics struct {
	reg      *prometheus.Registry
	commands *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	people   prometheus.Gauge
	active   prometheus.Gauge
	standby  atomic.Bool
	// undecryptable counts Matrix messages the bot could not decrypt.
	undecryptable *prometheus.CounterVec
	// The message lifecycle (bots/outbox): how jobs ended, how many wait.
	outboxJobs    *prometheus.CounterVec
	outboxPending *prometheus.GaugeVec
	// health is each chat adapter's state for /healthz (health.go).
	health adapters
	// skew watches the clock against the platforms' timestamps (skew.go).
	skew *ClockSkew
}

// New returns metrics reporting people as the number of configured people.
func New(people int) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbot_commands_total",
			Help: "Messages handled, by platform and command word.",
		}, []string{"platform", "command"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbot_command_errors_total",
			Help: "Messages that failed on the bot's side (not a person's mistake), by platform and command word.",
		}, []string{"platform", "command"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authbot_command_duration_seconds",
			Help: "Time to handle one message, from receipt to reply, by platform.",
			// /code is a few hundred microseconds; imports and QR photos
			// take longer. Fine buckets at the low end show a slow disk.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"platform"}),
		people: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authbot_people",
			Help: "People configured to use the bot.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authbot_active",
			Help: "1 while this process is the active instance (serves chats), 0 while it is a standby waiting for the lease (storage.driver: postgres).",
		}),
		undecryptable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbot_matrix_undecryptable_total",
			Help: "Matrix messages the bot could not decrypt, by reason (withheld_unverified, withheld_blacklisted, withheld_other, no_session, device_mismatch, other).",
		}, []string{"reason"}),
	}
	m.outboxJobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authbot_outbox_jobs_total",
		Help: "Scheduled edits and deletions of chat messages, by platform, action and outcome (done, gone, retry, too_old, refused, gave_up, full, unreadable).",
	}, []string{"platform", "action", "outcome"})
	m.outboxPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "authbot_outbox_pending",
		Help: "Scheduled edits and deletions waiting, by platform.",
	}, []string{"platform"})
	m.skew = newClockSkew()
	m.people.Set(float64(people))
	m.active.Set(1)
	m.reg.MustRegister(m.commands, m.errors, m.latency, m.people, m.active, m.undecryptable, m.outboxJobs, m.outboxPending, m.skew.gauge,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe implements commands.Observer.
func (m *Metrics) Observe(platform, command string, took time.Duration, failed bool) {
	platform, command = label(platform), label(command)
	m.commands.WithLabelValues(platform, command).Inc()
	if failed {
		m.errors.WithLabelValues(platform, command).Inc()
	}
	m.latency.WithLabelValues(platform).Observe(took.Seconds())
}

// OutboxJob implements outbox.Observer.
func (m *Metrics) OutboxJob(platform, action, outcome string) {
	m.outboxJobs.WithLabelValues(label(platform), label(action), label(outcome)).Inc()
}

// OutboxPending implements outbox.Observer.
func (m *Metrics) OutboxPending(platform string, n int) {
	m.outboxPending.WithLabelValues(label(platform)).Set(float64(n))
}

// SetRole records whether this process is "active" or "standby". A
// standby's /healthz answers 200 "standby": it is healthy, just waiting.
func (m *Metrics) SetRole(role string) {
	standby := role == "standby"
	m.standby.Store(standby)
	if standby {
		m.active.Set(0)
	} else {
		m.active.Set(1)
	}
}

// Undecryptable counts one Matrix message the bot could not decrypt
// (bots/matrix.DecryptObserver). reason is one of the adapter's fixed words.
func (m *Metrics) Undecryptable(reason string) {
	m.undecryptable.WithLabelValues(label(reason)).Inc()
}

// SetPeople updates the people gauge (after a config reload or an invite).
func (m *Metrics) SetPeople(n int) { m.people.Set(float64(n)) }

func label(s string) string {
	if s == "" {
		return "none"
	}
	if len(s) > maxLabelLen {
		return s[:maxLabelLen]
	}
	return s
}

// HealthFunc reports whether the bot can serve: nil when healthy.
type HealthFunc func(ctx context.Context) error

// Handler serves /metrics and /healthz. /healthz answers 200 "ok" when
// health returns nil within two seconds, else 503 with a fixed text (the
// error goes to onErr for the log, never into the response: an unauthenticated
// endpoint must not leak paths or internals).
func (m *Metrics) Handler(health HealthFunc, onErr func(error)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if health != nil {
			if err := health(ctx); err != nil {
				if onErr != nil {
					onErr(err)
				}
				writeHealth(w, r, "unhealthy", nil, time.Now())
				return
			}
		}
		if m.standby.Load() {
			// A standby runs no adapter: waiting for the lease is healthy.
			writeHealth(w, r, "standby", nil, time.Now())
			return
		}
		list := m.Adapters()
		status := "ok"
		if !serving(list) {
			status = "unhealthy" // no adapter reaches its platform
		}
		writeHealth(w, r, status, list, time.Now())
	})
	return mux
}

// Serve listens on addr and serves h until ctx is done, then shuts down
// gracefully (in-flight scrapes finish, at most five seconds).
func Serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	return ServeListener(ctx, ln, h)
}

// ServeListener is Serve on a listener the caller opened (tests pass
// 127.0.0.1:0).
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// Check asks a /healthz URL and returns nil on 200 (authbot healthcheck,
// the container's HEALTHCHECK: no curl needed in a scratch image).
func Check(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}
