package telegram

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// tracker knows which fetched updates are still being handled, so that the
// offset sent to Telegram never confirms an update before it is done.
type tracker struct {
	mu       sync.Mutex
	inflight map[int64]struct{}
	maxSeen  int64
	progress chan struct{} // closed and replaced whenever an update finishes
}

func newTracker() *tracker {
	return &tracker{inflight: map[int64]struct{}{}, progress: make(chan struct{})}
}

// start records a fetched update; it returns false for one already seen
// (Telegram sends unconfirmed updates again on every poll).
func (t *tracker) start(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id <= t.maxSeen {
		return false
	}
	t.maxSeen = id
	t.inflight[id] = struct{}{}
	return true
}

func (t *tracker) finish(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.inflight, id)
	close(t.progress)
	t.progress = make(chan struct{})
}

// offset is the lowest update id not fully handled: every id below it is
// done and may be confirmed.
func (t *tracker) offset() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	low := t.maxSeen + 1
	for id := range t.inflight {
		low = min(low, id)
	}
	return low
}

// seen is the highest update id fetched so far.
func (t *tracker) seen() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.maxSeen
}

// windowFull reports whether the limit updates from the offset on have all
// been fetched already (update ids are consecutive), so a poll can bring
// nothing new until the oldest unfinished one is done.
func (t *tracker) windowFull(limit int) bool {
	low := t.offset()
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.inflight) > 0 && t.maxSeen-low+1 >= int64(limit)
}

// state returns the number of updates in flight and a channel closed at
// the next finish.
func (t *tracker) state() (int, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.inflight), t.progress
}

// pollLimit is how many updates one getUpdates may return (Telegram's max);
// it also bounds the updates in flight.
const pollLimit = 100

// poll fetches updates until ctx is done, dispatching each new one.
func (b *Bot) poll(ctx, workCtx context.Context) error {
	// A webhook left from another run makes getUpdates fail with 409.
	if err := b.do(ctx, "deleteWebhook", func(ctx context.Context) error {
		_, err := b.api.DeleteWebhook(ctx, &bot.DeleteWebhookParams{})
		return err
	}); err != nil && ctx.Err() == nil {
		b.log.Warn("telegram: deleteWebhook failed", "err", safeErr(err))
	}
	b.track = newTracker()
	b.prog = newProgress(ctx, b.cfg.Progress, b.log)
	written := closedChan
	defer func() { <-written }() // no write outlives Run
	backoff := time.Duration(0)
	// live: a poll has answered since the start, so what comes now was
	// sent just now (the first answer may bring a backlog with old dates).
	live := false
	dispatched := false // the last poll brought updates that are being handled
	for ctx.Err() == nil {
		n, progress := b.track.state()
		if n > 0 && dispatched {
			// A poll right now would mostly bring back the updates just
			// handed out (Telegram answers from the oldest unconfirmed
			// one): let the first of them finish, or a moment pass, so
			// the next poll confirms it and brings what came meanwhile.
			// One poll per reply instead of two when people ask one at
			// a time (BenchmarkLoad/seq). The wait is the re-poll pause
			// below: a slow handler (an import) still lets new updates in.
			pause(ctx, progress)
			n, progress = b.track.state()
		}
		dispatched = false
		if n >= pollLimit || b.track.windowFull(pollLimit) {
			// Telegram would only send the same unfinished updates again:
			// it answers from the offset, the oldest unfinished update, and
			// every id in the next pollLimit has been fetched already.
			select {
			case <-progress:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		timeout := b.cfg.PollTimeout
		if n > 0 {
			// Unfinished updates come back at once; do not long-poll.
			timeout = 0
		}
		// The record covers the ids this poll may bring before they
		// arrive: the write, when the span must move, runs while the
		// poll waits, so their handlers need none.
		<-written // the last one first: one background write at a time
		if b.prog.expect(b.track.seen()) {
			written = b.prog.flushAsync(ctx)
		}
		b.listen()
		ups, err := b.getUpdates(ctx, b.track.offset(), timeout, pollLimit, b.track.seen())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			b.failed("getUpdates")
			if errors.Is(err, bot.ErrorUnauthorized) || errors.Is(err, bot.ErrorNotFound) {
				return fmt.Errorf("telegram: the Bot API refused the token: %s", safeErr(err))
			}
			var tmr *bot.TooManyRequestsError
			wait := min(max(backoff*2, 200*time.Millisecond), 10*time.Second)
			backoff = wait
			if errors.As(err, &tmr) {
				wait = min(time.Duration(max(tmr.RetryAfter, 1))*time.Second, b.cfg.MaxRetryWait)
			} else if errors.Is(err, bot.ErrorConflict) {
				// Someone set a webhook (or another instance polls).
				_, _ = b.api.DeleteWebhook(ctx, &bot.DeleteWebhookParams{})
			}
			b.log.Warn("telegram: getUpdates failed", "err", safeErr(err), "retry_in", wait)
			if !sleepCtx(ctx, wait) {
				return nil
			}
			continue
		}
		backoff = 0
		b.reached("getUpdates")
		if len(ups) == 0 {
			b.prog.confirmedAll() // nothing unconfirmed is left at all
		}
		var fresh []*models.Update
		low := int64(0)
		for _, u := range ups {
			if low == 0 || u.ID < low {
				low = u.ID
			}
			if b.track.start(u.ID) {
				fresh = append(fresh, u)
			}
		}
		if live && timeout > 0 {
			b.sampleClock(ctx, fresh) // a long poll's answer: sent just now
		}
		live = true
		if len(fresh) > 0 {
			<-written // the span the poll was written for
		}
		// Durably in progress before any handler runs.
		skip, solo := b.prog.begin(ctx, fresh, low)
		if solo != nil {
			b.handleSolo(ctx, workCtx, fresh, skip, solo)
			continue
		}
		for _, u := range fresh {
			if skip[u.ID] {
				b.skipUpdate(workCtx, u)
				b.track.finish(u.ID)
				continue
			}
			b.disp.submit(workCtx, chatKey(u), u, b.finishPolled)
			dispatched = true
		}
		if len(fresh) == 0 && len(ups) > 0 {
			// Only unfinished updates came back: wait for one to finish,
			// or a moment to pick up new ones, instead of spinning. The
			// pause bounds re-polling to 50/s while a handler is stuck.
			pause(ctx, progress)
		}
	}
	return nil
}

// closedChan is a write already done.
var closedChan = func() <-chan struct{} { c := make(chan struct{}); close(c); return c }()

// handleSolo handles the first answer after a crash that left suspects
// (see span) one update at a time, each recorded just before its
// handler, so that a crash counts only the update that was running.
// Nothing else is in flight: it is the run's first answer. Updates not
// started when ctx ends stay unconfirmed and come back next run.
func (b *Bot) handleSolo(ctx, workCtx context.Context, fresh []*models.Update, skip map[int64]bool, solo map[int64]int) {
	for _, u := range fresh {
		if ctx.Err() != nil {
			return
		}
		if skip[u.ID] {
			b.skipUpdate(workCtx, u)
			b.track.finish(u.ID)
			continue
		}
		b.prog.startSolo(ctx, u.ID, solo[u.ID])
		done := make(chan struct{})
		b.disp.submit(workCtx, chatKey(u), u, func(id int64) {
			b.finishPolled(id)
			close(done)
		})
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
}

// pause waits for a handed-out update to finish, or the re-poll pause
// (20 ms) to pass, whichever comes first.
func pause(ctx context.Context, progress <-chan struct{}) {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-progress:
	case <-t.C:
	case <-ctx.Done():
	}
}

// finishPolled is called when a polled update has been handled.
func (b *Bot) finishPolled(id int64) {
	b.prog.finish(id)
	b.track.finish(id)
}

// confirm tells Telegram that every finished update is handled, so a
// graceful restart does not handle them again. Updates still unfinished
// (after the shutdown grace) stay unconfirmed and come back next run.
func (b *Bot) confirm(ctx context.Context) {
	if b.track == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b.prog.endSpan()
	b.prog.flush(cctx)
	if _, err := b.getUpdates(cctx, b.track.offset(), 0, 1, math.MaxInt64); err != nil {
		b.log.Warn("telegram: could not confirm the last updates; they will be handled again", "err", safeErr(err))
	}
}

// chatKey orders updates: one chat's updates are handled one at a time.
func chatKey(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil:
		if m := u.CallbackQuery.Message.Message; m != nil {
			return m.Chat.ID
		}
		if m := u.CallbackQuery.Message.InaccessibleMessage; m != nil {
			return m.Chat.ID
		}
		return u.CallbackQuery.From.ID
	}
	return 0
}
