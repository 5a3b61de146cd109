//go:build goolm

package matrix

import (
	"context"
	"time"
)

// HealthReporter is told how the homeserver answers, for /healthz
// (*observe.AdapterHealth fits). what is a fixed word ("login", "sync"),
// never an error text.
type HealthReporter interface {
	Reached(t time.Time, what string)
	Failed(t time.Time, what string)
}

func (b *Bot) reached(what string) {
	if b.cfg.Health != nil {
		b.cfg.Health.Reached(b.cfg.Clock.Now(), what)
	}
}

func (b *Bot) failed(what string) {
	if b.cfg.Health != nil {
		b.cfg.Health.Failed(b.cfg.Clock.Now(), what)
	}
}

// ClockSampler is told, for each new event, our clock and the event's
// origin_server_ts (*observe.ClockSkew fits): a server clock that is off
// makes every code wrong.
type ClockSampler interface {
	Sample(ctx context.Context, local, remote time.Time)
}
