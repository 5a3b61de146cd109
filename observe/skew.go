package observe

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The clock: one-time codes are only right if the server's clock is. Every
// Telegram update carries the time Telegram got it (date) and every Matrix
// event the time its homeserver got it (origin_server_ts); the adapters
// hand each pair (our clock, theirs) to ClockSkew. The median of the last
// skewWindow differences is the skew: one message that waited in a queue
// (a webhook retry, a slow federation hop) does not move it. Past SkewLimit
// it is logged as a warning, and the admins are told once in their private
// chat. The gauge authbot_clock_skew_seconds always shows it.

// SkewLimit is the skew past which the clock counts as wrong: TOTP codes
// live 30 seconds, and services accept about one period either way.
const SkewLimit = 10 * time.Second

const (
	skewWindow     = 15 // samples the median is taken over
	skewMinSamples = 5  // fewer say nothing yet
)

// ClockSkew is the watch over the local clock. Metrics.ClockSkew returns
// the one of a process; adapters see it through an interface of their own.
type ClockSkew struct {
	gauge prometheus.Gauge

	mu      sync.Mutex
	win     []time.Duration
	next    int
	warned  bool
	told    bool
	log     *slog.Logger
	notify  func(ctx context.Context, skew time.Duration)
	current time.Duration
	known   bool
}

func newClockSkew() *ClockSkew {
	return &ClockSkew{gauge: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "authbot_clock_skew_seconds",
		Help: "This server's clock minus the chat platforms' message timestamps (median of the last 15 messages); positive: the server is ahead. Past ±10 s codes may be refused.",
	})}
}

// ClockSkew is the process's clock watch (its gauge is registered).
func (m *Metrics) ClockSkew() *ClockSkew { return m.skew }

// OnSkew sets where a skew past SkewLimit is reported: log gets a warning
// each time the skew crosses the limit (and a line when it is back), and
// notify is called once per process with the skew (serve tells the admins).
func (c *ClockSkew) OnSkew(log *slog.Logger, notify func(ctx context.Context, skew time.Duration)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log, c.notify = log, notify
}

// Sample adds one message's timestamps: local is our clock when it
// arrived, remote the platform's time on it.
func (c *ClockSkew) Sample(ctx context.Context, local, remote time.Time) {
	if local.IsZero() || remote.IsZero() {
		return
	}
	c.mu.Lock()
	d := local.Sub(remote)
	if len(c.win) < skewWindow {
		c.win = append(c.win, d)
	} else {
		c.win[c.next] = d
		c.next = (c.next + 1) % skewWindow
	}
	if len(c.win) < skewMinSamples {
		c.mu.Unlock()
		return
	}
	sorted := slices.Clone(c.win)
	slices.Sort(sorted)
	med := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		med = (sorted[len(sorted)/2-1] + med) / 2
	}
	c.current, c.known = med, true
	c.gauge.Set(med.Seconds())
	off := med > SkewLimit || med < -SkewLimit
	log := c.log
	var notify func(context.Context, time.Duration)
	switch {
	case off && !c.warned:
		c.warned = true
		if !c.told {
			c.told, notify = true, c.notify
		}
	case !off && c.warned:
		c.warned = false
		if log != nil {
			log.Info("the server clock agrees with the chat platforms again", "skew_seconds", med.Round(time.Second).Seconds())
		}
		log = nil
	default:
		log = nil
	}
	c.mu.Unlock()
	if !off {
		return
	}
	if log != nil {
		log.Warn("the server clock is off: codes may be refused; set up time sync (NTP)",
			"skew_seconds", med.Round(time.Second).Seconds(), "samples", len(sorted))
	}
	if notify != nil {
		notify(ctx, med)
	}
}

// Skew returns the current median skew; ok is false before enough
// messages came.
func (c *ClockSkew) Skew() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current, c.known
}

// SkewNotice is what admins are told in their private chat.
func SkewNotice(skew time.Duration) string {
	dir := "ahead of"
	if skew < 0 {
		dir, skew = "behind", -skew
	}
	return fmt.Sprintf("Warning for the admins: the clock of the server I run on is %s %s the chat servers' clocks. "+
		"Codes are computed from that clock, so sites may refuse them. Please turn on time sync on the server "+
		"(NTP, e.g. timedatectl set-ntp true); authbot doctor shows the clock too.", skew.Round(time.Second), dir)
}
