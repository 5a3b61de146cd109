package telegram

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"testing"

	"github.com/go-telegram/bot/models"
)

// memProgress is a Progress in memory; "starts" share it like a database.
type memProgress struct {
	mu    sync.Mutex
	items map[int64]int
	saves int
	fail  bool // every save fails (the disk is full)
}

func (m *memProgress) LoadProgress(context.Context, string) (map[int64]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.items), nil
}

func (m *memProgress) SaveProgress(_ context.Context, _ string, items map[int64]int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("disk full")
	}
	m.items = maps.Clone(items)
	m.saves++
	return nil
}

func ups(ids ...int64) []*models.Update {
	var out []*models.Update
	for _, id := range ids {
		out = append(out, &models.Update{ID: id})
	}
	return out
}

// TestProgressCountsCrashes walks the record through crashes: in flight
// at one crash → handled again; at two → skipped; finished → gone;
// confirmed ids below a poll's lowest leave the record; webhook mode
// (no order) keeps the record bounded.
func TestProgressCountsCrashes(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db := &memProgress{}

	p := newProgress(ctx, db, log)
	if skip, _ := p.begin(ctx, ups(10, 11), 10); len(skip) != 0 {
		t.Fatalf("fresh updates skipped: %v", skip)
	}
	p.finish(11)
	p.flush(ctx)
	if len(db.items) != 1 || db.items[10] != 0 {
		t.Fatalf("record %v, want 10 in progress", db.items)
	}
	// Crash with 10 in flight. Start 2 sees it once: handled again.
	p = newProgress(ctx, db, log)
	if db.items[10] != 1 {
		t.Fatalf("start not counted: %v", db.items)
	}
	if skip, _ := p.begin(ctx, ups(10, 12), 10); skip[10] {
		t.Fatal("an update in progress at one crash was skipped")
	}
	// Crash again. Start 3: skipped.
	p = newProgress(ctx, db, log)
	if skip, _ := p.begin(ctx, ups(10, 12), 10); !skip[10] || skip[12] {
		t.Fatalf("skip %v, want only 10", skip)
	}
	p.finish(12)
	p.flush(ctx)
	if len(db.items) != 0 {
		t.Fatalf("record %v after everything finished", db.items)
	}
	// Ids below the lowest polled one were confirmed: dropped.
	db.items = map[int64]int{3: 1, 4: 1}
	p = newProgress(ctx, db, log)
	p.begin(ctx, ups(20), 20)
	if _, ok := db.items[3]; ok || db.items[20] != 0 {
		t.Fatalf("record %v", db.items)
	}
	// An empty poll confirms everything.
	p.finish(20)
	p.confirmedAll()
	p.flush(ctx)
	if len(db.items) != 0 {
		t.Fatalf("record %v after an empty poll", db.items)
	}
	// Webhook mode: what earlier runs left stays bounded.
	db.items = map[int64]int{}
	for i := int64(1); i <= 1000; i++ {
		db.items[i] = 1
	}
	p = newProgress(ctx, db, log)
	p.begin(ctx, ups(5000), 0)
	if len(db.items) > 2*pollLimit+1 {
		t.Fatalf("webhook record holds %d ids", len(db.items))
	}
}

// TestProgressStartReadsSpan: what one start makes of the record an
// earlier run left (span -lo → n: the ids lo..lo+spanWidth-1, written
// before they were fetched) when the first answer brings ids. A span
// makes its ids suspects, handled alone (solo) and never skipped on the
// span alone; concrete ids keep their counts; ids past the span and
// webhook mode know nothing of it.
func TestProgressStartReadsSpan(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stored    map[int64]int // what the crashed run left
		answer    []int64
		webhook   bool
		skip      []int64
		solo      map[int64]int // nil: the usual concurrent path
		write     bool          // begin writes before handlers run
		afterward map[int64]int // the record after begin
	}{
		{name: "nothing left", answer: []int64{5}, write: true, afterward: map[int64]int{5: 0}},
		{name: "concrete at one crash", stored: map[int64]int{5: 0}, answer: []int64{5, 6},
			write: true, afterward: map[int64]int{5: 1, 6: 0}},
		{name: "concrete at two crashes", stored: map[int64]int{5: 1}, answer: []int64{5, 6},
			skip: []int64{5}, write: true, afterward: map[int64]int{6: 0}},
		{name: "span: fetched ids are suspects", stored: map[int64]int{-5: 0}, answer: []int64{5, 6, 5 + spanWidth},
			solo: map[int64]int{5: 1, 6: 1, 5 + spanWidth: 0}, afterward: map[int64]int{-5: 1}},
		{name: "span found at two starts is not a skip", stored: map[int64]int{-5: 1}, answer: []int64{5},
			solo: map[int64]int{5: 1}, afterward: map[int64]int{-5: 2}},
		{name: "span beside concrete ids", stored: map[int64]int{3: 1, 4: 0, -5: 0}, answer: []int64{3, 4, 5},
			skip: []int64{3}, solo: map[int64]int{4: 1, 5: 1}, afterward: map[int64]int{3: 2, 4: 1, -5: 1}},
		{name: "ids past the span", stored: map[int64]int{-5: 0}, answer: []int64{5 + spanWidth},
			write: true, afterward: map[int64]int{5 + spanWidth: 0}},
		{name: "webhook ignores a span", stored: map[int64]int{-5: 0}, answer: []int64{5}, webhook: true,
			write: true, afterward: map[int64]int{5: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := &memProgress{items: maps.Clone(tc.stored)}
			p := newProgress(ctx, db, slog.New(slog.DiscardHandler))
			saves := db.saves
			low := tc.answer[0]
			if tc.webhook {
				low = 0
			}
			skip, solo := p.begin(ctx, ups(tc.answer...), low)
			if len(skip) != len(tc.skip) {
				t.Errorf("skip %v, want %v", skip, tc.skip)
			}
			for _, id := range tc.skip {
				if !skip[id] {
					t.Errorf("skip %v, want %v", skip, tc.skip)
				}
			}
			if !maps.Equal(solo, tc.solo) || (solo == nil) != (tc.solo == nil) {
				t.Errorf("solo %v, want %v", solo, tc.solo)
			}
			if wrote := db.saves > saves; wrote != tc.write {
				t.Errorf("begin wrote: %v, want %v", wrote, tc.write)
			}
			if !maps.Equal(db.items, tc.afterward) {
				t.Errorf("record %v, want %v", db.items, tc.afterward)
			}
		})
	}
}

// TestProgressSpanInRun walks one run and its crashes through the span:
// ids it covers start without a write, and the polls after them need none
// either until the span must move; an id past it (Telegram picked a new id
// after a week idle) or after a failed write is written first; a poison
// update the span alone covered is skipped after two crashes while an
// innocent one beside it is not; a graceful stop leaves nothing.
func TestProgressSpanInRun(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db := &memProgress{}
	p := newProgress(ctx, db, log)
	if p.expect(0) {
		t.Fatal("a span before any id was seen")
	}
	p.begin(ctx, ups(10), 10) // the run's first answer: written first
	p.finish(10)
	if !p.expect(10) {
		t.Fatal("no span written before the second poll")
	}
	p.flush(ctx) // beside that poll
	if want := map[int64]int{-11: 0}; !maps.Equal(db.items, want) {
		t.Fatalf("record %v, want %v", db.items, want)
	}
	saves := db.saves
	if skip, solo := p.begin(ctx, ups(11, 12), 11); skip != nil || solo != nil || db.saves != saves {
		t.Fatalf("covered ids: skip %v solo %v, %d writes", skip, solo, db.saves-saves)
	}
	p.finish(11)
	if p.expect(12) {
		t.Fatal("the span was moved while it still covers the next poll")
	}
	if last := int64(10 + spanWidth - pollLimit); p.expect(last) || !p.expect(last+1) {
		t.Fatal("the span does not move exactly when the next poll reaches past it")
	}
	p.flush(ctx)
	if want := map[int64]int{12: 0, -(12 + spanWidth - pollLimit): 0}; !maps.Equal(db.items, want) {
		t.Fatalf("record %v, want %v", db.items, want)
	}
	saves = db.saves
	p.begin(ctx, ups(9000), 9000) // a jump past the span
	if db.saves != saves+1 || db.items[9000] != 0 {
		t.Fatalf("an id past the span was not written first: %v", db.items)
	}
	// A failed write leaves no span to trust.
	p.finish(12)
	p.finish(9000)
	db.fail = true
	if !p.expect(9000) {
		t.Fatal("the span was not moved past a jump")
	}
	p.flush(ctx)
	db.fail = false
	saves = db.saves
	p.begin(ctx, ups(9001), 9001)
	if db.saves != saves+1 || db.items[9001] != 0 || db.items[-9001] != 0 {
		t.Fatalf("after a failed write, 9001 was not written first: %v", db.items)
	}
	p.finish(9001)
	if p.expect(9001) {
		t.Fatal("the span was not trusted after a write that worked")
	}
	p.begin(ctx, ups(9002, 9003), 9002) // 9002 poison, 9003 innocent, both covered

	// Crash 1. Start 2: both suspects (an id past the span is not); solo,
	// the poison first.
	past := int64(9001 + spanWidth)
	p = newProgress(ctx, db, log)
	_, solo := p.begin(ctx, ups(9002, 9003, past), 9002)
	if want := map[int64]int{9002: 1, 9003: 1, past: 0}; !maps.Equal(solo, want) {
		t.Fatalf("solo %v, want %v", solo, want)
	}
	p.startSolo(ctx, 9002, solo[9002])
	if want := map[int64]int{9002: 1}; !maps.Equal(db.items, want) {
		t.Fatalf("record while the poison runs alone %v, want %v", db.items, want)
	}
	// Crash 2. Start 3: the poison is skipped, the innocent one is not.
	p = newProgress(ctx, db, log)
	skip, solo := p.begin(ctx, ups(9002, 9003, past), 9002)
	if !skip[9002] || len(skip) != 1 || solo != nil {
		t.Fatalf("skip %v solo %v, want only 9002 skipped", skip, solo)
	}
	p.finish(9003)
	p.finish(past)
	p.expect(past)
	p.flush(ctx)
	p.endSpan()
	p.flush(ctx)
	if len(db.items) != 0 {
		t.Fatalf("record %v after a graceful stop", db.items)
	}
}
