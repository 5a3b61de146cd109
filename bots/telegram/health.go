package telegram

import (
	"context"
	"time"

	"github.com/go-telegram/bot/models"
)

// HealthReporter is told how the Bot API answers, for /healthz
// (*observe.AdapterHealth fits). what is a fixed method word, never an
// error text.
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

// ClockSampler is told, for each new message, our clock and Telegram's
// date on it (*observe.ClockSkew fits): a server clock that is off makes
// every code wrong.
type ClockSampler interface {
	Sample(ctx context.Context, local, remote time.Time)
}

// sampleClock hands the dates of fresh messages to Config.Skew. Callers
// leave out updates that may have waited at Telegram (the backlog the
// first poll after a start brings).
func (b *Bot) sampleClock(ctx context.Context, ups []*models.Update) {
	if b.cfg.Skew == nil {
		return
	}
	now := b.cfg.Clock.Now()
	for _, u := range ups {
		if u.Message != nil && u.Message.Date > 0 {
			b.cfg.Skew.Sample(ctx, now, time.Unix(int64(u.Message.Date), 0))
		}
	}
}
