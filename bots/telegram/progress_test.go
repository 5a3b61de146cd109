package telegram

import (
	"context"
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
}

func (m *memProgress) LoadProgress(context.Context, string) (map[int64]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.items), nil
}

func (m *memProgress) SaveProgress(_ context.Context, _ string, items map[int64]int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
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
	if skip := p.begin(ctx, ups(10, 11), 10); len(skip) != 0 {
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
	if skip := p.begin(ctx, ups(10, 12), 10); skip[10] {
		t.Fatal("an update in progress at one crash was skipped")
	}
	// Crash again. Start 3: skipped.
	p = newProgress(ctx, db, log)
	if skip := p.begin(ctx, ups(10, 12), 10); !skip[10] || skip[12] {
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
