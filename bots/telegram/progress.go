package telegram

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/lang"
)

// Progress keeps a small durable record of the updates being handled (ids
// and counts only), so that one update that crashes the process cannot
// crash it again at every start. *core.Service implements it over the
// Store.
type Progress interface {
	LoadProgress(ctx context.Context, name string) (map[int64]int, error)
	SaveProgress(ctx context.Context, name string, items map[int64]int) error
}

// ProgressName names the adapter's record (the name it gives Progress).
const ProgressName = "telegram"

// maxCrashes is how many starts may find one update still in progress:
// the first crash is forgiven (the update is handled again: a power cut
// loses nothing), the second is not (the update is skipped and its sender
// told).
const maxCrashes = 2

// skippedText is what the sender of a skipped update is told, in their
// language (their /language choice, else their app's).
func (b *Bot) skippedText(ctx context.Context, u *models.Update) string {
	var from *models.User
	switch {
	case u.Message != nil:
		from = u.Message.From
	case u.CallbackQuery != nil:
		from = &u.CallbackQuery.From
	}
	if from == nil {
		return lang.MustLoad().Printer(lang.English).T("telegram.skipped")
	}
	person, _ := b.personOf(ctx, from.ID)
	return b.printerFor(ctx, commands.Request{Person: person, Lang: from.LanguageCode}).T("telegram.skipped")
}

// progress is the in-memory side of the record.
//
// Writes: the record is written once when the run starts (to count this
// start), once per poll that brought new updates (before they are
// handled), and before a poll that confirms finished ones. A finished
// update leaves the record no later than Telegram forgets it, so a crash
// never leaves a done update looking in progress.
type progress struct {
	store Progress
	log   interface {
		Warn(msg string, args ...any)
	}

	mu    sync.Mutex
	prior map[int64]int // from earlier runs, not fetched again yet
	cur   map[int64]int // being handled now
	dirty bool
}

// newProgress loads the record and counts this start; nil store gives a
// progress that records nothing.
func newProgress(ctx context.Context, store Progress, log interface{ Warn(string, ...any) }) *progress {
	p := &progress{store: store, log: log, prior: map[int64]int{}, cur: map[int64]int{}}
	if store == nil {
		return p
	}
	loaded, err := store.LoadProgress(ctx, ProgressName)
	if err != nil {
		log.Warn("telegram: could not read the updates in progress", "err", err)
		return p
	}
	for id, n := range loaded {
		p.prior[id] = n + 1 // this start found it in progress
	}
	if len(p.prior) > 0 {
		p.dirty = true
		p.flush(ctx)
	}
	return p
}

// begin records fresh updates as in progress and returns the ones to
// skip: updates that were in progress at maxCrashes starts. Ids below the
// lowest fetched are confirmed and leave the record (polling: Telegram
// answers from the oldest unconfirmed update on).
//
// low is the lowest id of the poll's answer (0 in webhook mode, where
// there is no order to prune by).
func (p *progress) begin(ctx context.Context, ups []*models.Update, low int64) (skip map[int64]bool) {
	if p.store == nil || len(ups) == 0 {
		return nil
	}
	p.mu.Lock()
	if low > 0 {
		for id := range p.prior {
			if id < low {
				delete(p.prior, id)
			}
		}
	}
	for _, u := range ups {
		n, ok := p.prior[u.ID]
		delete(p.prior, u.ID)
		if ok && n >= maxCrashes {
			if skip == nil {
				skip = map[int64]bool{}
			}
			skip[u.ID] = true
			continue
		}
		p.cur[u.ID] = n
	}
	// Bound what earlier runs left (webhook mode has no order to prune by).
	if len(p.prior) > 2*pollLimit {
		ids := make([]int64, 0, len(p.prior))
		for id := range p.prior {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids[:len(ids)-2*pollLimit] {
			delete(p.prior, id)
		}
	}
	p.dirty = true
	p.mu.Unlock()
	p.flush(ctx)
	return skip
}

// confirmedAll drops what earlier runs left when a poll from the start
// found nothing unconfirmed.
func (p *progress) confirmedAll() {
	p.mu.Lock()
	if len(p.prior) > 0 {
		p.prior = map[int64]int{}
		p.dirty = true
	}
	p.mu.Unlock()
}

// finish takes id out of the record (written by the next flush).
func (p *progress) finish(id int64) {
	p.mu.Lock()
	if _, ok := p.cur[id]; ok {
		delete(p.cur, id)
		p.dirty = true
	}
	p.mu.Unlock()
}

// flush writes the record if it changed. A failed write is logged: the
// update is still handled (at-least-once delivery matters more than the
// crash-loop guard).
func (p *progress) flush(ctx context.Context) {
	if p.store == nil {
		return
	}
	p.mu.Lock()
	if !p.dirty {
		p.mu.Unlock()
		return
	}
	items := make(map[int64]int, len(p.cur)+len(p.prior))
	for id, n := range p.prior {
		items[id] = n
	}
	for id, n := range p.cur {
		items[id] = n
	}
	p.dirty = false
	p.mu.Unlock()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.store.SaveProgress(cctx, ProgressName, items); err != nil {
		p.mu.Lock()
		p.dirty = true
		p.mu.Unlock()
		p.log.Warn("telegram: could not record the updates in progress", "err", err)
	}
}

// skipUpdate tells the sender of an update that crashed the bot twice
// that it was skipped. Nothing of the update is logged but its id.
func (b *Bot) skipUpdate(ctx context.Context, u *models.Update) {
	b.log.Error("telegram: skipped an update that was in progress at two crashes", "update", u.ID)
	if u.Message != nil && (u.Message.From == nil || u.Message.From.IsBot) {
		return
	}
	chatID := chatKey(u)
	if chatID == 0 {
		return
	}
	text := b.skippedText(ctx, u)
	err := b.do(ctx, "sendMessage", func(ctx context.Context) error {
		_, err := b.sendText(ctx, &sendMessageReq{ChatID: chatID, Text: text})
		return err
	})
	if err != nil {
		b.log.Warn("telegram: skip notice not sent", "err", safeErr(err))
	}
}
