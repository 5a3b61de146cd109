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
// start), before a poll whose ids the span does not cover yet (beside the
// poll: see span), before handlers run for updates it does not cover (the
// first poll of a run, an id outside the span), and at a graceful stop.
// A finished update leaves the record at the next write, not before the
// poll that confirms it: once confirmed it never comes back, and the next
// start drops it (it is below the first answer's lowest id), so a done
// update is never handled as one that crashed.
type progress struct {
	store Progress
	log   interface {
		Warn(msg string, args ...any)
	}

	flushMu sync.Mutex // one write at a time, in the order taken

	mu      sync.Mutex
	prior   map[int64]int // from earlier runs, not fetched again yet
	cur     map[int64]int // being handled now
	old     span          // an earlier run's span, until this run's first answer
	next    span          // what this run's next poll may bring (written ahead)
	durable span          // next as of the last write that succeeded
	dirty   bool
}

// span is a run of update ids the record covers before they are fetched.
// Telegram numbers updates one after another, so before a poll the record
// can already hold the ids that poll may bring: they are in progress from
// the moment they arrive, and their handlers start without a write of
// their own. The concrete ids join the record at its next write. A span
// reaches well past the next poll, so one write serves many polls: the
// ids it covers that were handled and confirmed never come back, so
// covering them too costs nothing.
//
// A start that finds a span does not know which of its ids the crashed
// run had fetched: the first answer (Telegram sends every unconfirmed
// update again, from the oldest on) brings those, mixed with ones that
// came while the bot was down. Those are suspects: each is recorded with
// the span's count and handled alone (solo), so a crash names the one
// that caused it, and an innocent update that only shared the span is
// never counted as crashed. A span alone never makes an update skipped.
type span struct {
	lo int64 // first id; 0: no span
	n  int   // starts that found it
}

// spanWidth is how many ids a span covers: ten polls' worth (a poll's new
// ids all fall within pollLimit of the highest id seen), so a steady
// stream of updates moves it once per ~900.
const spanWidth = 10 * pollLimit

func (s span) has(id int64) bool { return s.lo > 0 && id >= s.lo && id < s.lo+spanWidth }

// In the stored record a span is the item -lo → n (update ids are
// positive): no change to the Progress interface or the record's format,
// and an older build reads it as an id that never comes and drops it.
func (s span) key() int64 { return -s.lo }

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
		switch {
		case id > 0:
			p.prior[id] = n + 1 // this start found it in progress
		case id < 0 && -id > p.old.lo: // one span is written; keep the newest
			p.old = span{lo: -id, n: n + 1}
		}
	}
	if len(p.prior) > 0 || p.old.lo > 0 {
		p.dirty = true
		p.flush(ctx)
	}
	return p
}

// begin records fresh updates as in progress and says which to skip:
// updates that were in progress at maxCrashes starts. Ids below the
// lowest fetched are confirmed and leave the record (polling: Telegram
// answers from the oldest unconfirmed update on). An update the durable
// span covers needs no write here; any other is written before begin
// returns.
//
// When the updates include suspects of an earlier run's span, nothing is
// recorded: solo holds the count of every update to handle, and each is
// to be handled alone, recorded by startSolo just before.
//
// low is the lowest id of the poll's answer (0 in webhook mode, where
// there is no order to prune by and no span).
func (p *progress) begin(ctx context.Context, ups []*models.Update, low int64) (skip map[int64]bool, solo map[int64]int) {
	if p.store == nil || len(ups) == 0 {
		return nil, nil
	}
	p.mu.Lock()
	if low > 0 {
		for id := range p.prior {
			if id < low {
				delete(p.prior, id)
			}
		}
	}
	old := p.old
	p.old = span{} // this answer brings every id of it the crashed run fetched
	if low == 0 {
		old = span{}
	}
	suspects := false
	for _, u := range ups {
		if _, ok := p.prior[u.ID]; !ok && old.has(u.ID) {
			suspects = true
			break
		}
	}
	if suspects {
		solo = map[int64]int{}
	}
	write := false
	for _, u := range ups {
		n, ok := p.prior[u.ID]
		delete(p.prior, u.ID)
		switch {
		case ok && n >= maxCrashes:
			if skip == nil {
				skip = map[int64]bool{}
			}
			skip[u.ID] = true
			continue
		case !ok && old.has(u.ID):
			n = min(old.n, maxCrashes-1) // in progress at most at the last crash
		}
		if suspects {
			solo[u.ID] = n
			continue
		}
		p.cur[u.ID] = n
		write = write || ok || !p.durable.has(u.ID)
	}
	p.boundPrior()
	p.dirty = true
	p.mu.Unlock()
	if write {
		p.flush(ctx)
	}
	return skip, solo
}

// boundPrior bounds what earlier runs left (webhook mode has no order to
// prune by). Called with mu held.
func (p *progress) boundPrior() {
	if len(p.prior) <= 2*pollLimit {
		return
	}
	ids := make([]int64, 0, len(p.prior))
	for id := range p.prior {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids[:len(ids)-2*pollLimit] {
		delete(p.prior, id)
	}
}

// startSolo records one update of a solo batch as in progress, durably,
// before its handler runs.
func (p *progress) startSolo(ctx context.Context, id int64, n int) {
	if p.store == nil {
		return
	}
	p.mu.Lock()
	p.cur[id] = n
	p.dirty = true
	p.mu.Unlock()
	p.flush(ctx)
}

// expect makes the record's span cover what the next poll may bring: the
// pollLimit ids after seen, the highest fetched. It reports whether that
// takes a write (the durable span does not cover them yet). Until the
// first answer settles an earlier run's span, and before any id is seen,
// there is nothing to cover.
func (p *progress) expect(seen int64) (write bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if seen <= 0 || p.old.lo > 0 || p.durable.has(seen+1) && p.durable.has(seen+pollLimit) {
		return false
	}
	p.next = span{lo: seen + 1}
	p.dirty = true
	return true
}

// endSpan drops the span from the next write: no poll follows, so nothing
// can arrive uncovered.
func (p *progress) endSpan() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next.lo > 0 {
		p.next = span{}
		p.dirty = true
	}
}

// confirmedAll drops what earlier runs left when a poll from the start
// found nothing unconfirmed.
func (p *progress) confirmedAll() {
	p.mu.Lock()
	if len(p.prior) > 0 || p.old.lo > 0 {
		p.prior = map[int64]int{}
		p.old = span{}
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
// crash-loop guard), but no update is taken as covered by the span until
// a write succeeds.
func (p *progress) flush(ctx context.Context) {
	if p.store == nil {
		return
	}
	// Writes in the order their contents were taken: a slower older one
	// must not land last.
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	if !p.dirty {
		p.mu.Unlock()
		return
	}
	items := make(map[int64]int, len(p.cur)+len(p.prior)+1)
	for id, n := range p.prior {
		items[id] = n
	}
	for id, n := range p.cur {
		items[id] = n
	}
	sp := p.next
	for _, s := range []span{p.old, p.next} {
		if s.lo > 0 {
			items[s.key()] = s.n
		}
	}
	p.dirty = false
	p.mu.Unlock()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := p.store.SaveProgress(cctx, ProgressName, items)
	p.mu.Lock()
	if err != nil {
		p.dirty = true
		p.durable = span{}
	} else {
		p.durable = sp
	}
	p.mu.Unlock()
	if err != nil {
		p.log.Warn("telegram: could not record the updates in progress", "err", err)
	}
}

// flushAsync is flush in the background (while a poll waits); the
// channel is closed when the write is done.
func (p *progress) flushAsync(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.flush(ctx)
	}()
	return done
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
