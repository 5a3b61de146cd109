package commands

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/core/transfer"
	"github.com/authbot/authbot/internal/testkit/fakeclock"
	"github.com/authbot/authbot/lang"
)

// TestBatchPartsBounded: whatever the links claim, what noteBatchParts
// keeps and prints stays small (the review's poison pill printed a list of
// batch_size numbers).
func TestBatchPartsBounded(t *testing.T) {
	clock := fakeclock.New(time.Unix(1_800_000_000, 0))
	h := New(nil, Options{Clock: clock})
	// A claimed size the transfer package refuses anyway is ignored here.
	if got := h.noteBatchParts(h.cat.Printer(lang.English), "alice", &transfer.Result{Batch: &transfer.Batch{ID: 1, Size: 1 << 30}}); got != "" {
		t.Fatalf("huge batch printed %d bytes", len(got))
	}
	// The largest allowed export: the list of missing parts is cut short.
	got := h.noteBatchParts(h.cat.Printer(lang.English), "alice", &transfer.Result{Batch: &transfer.Batch{ID: 2, Size: transfer.MaxBatchSize}})
	if len(got) > 300 || !strings.Contains(got, "and 79 more") {
		t.Fatalf("100-part export: %d bytes: %q", len(got), got)
	}
	// A thousand exports from one person: only a few are remembered.
	for i := 0; i < 1000; i++ {
		h.noteBatchParts(h.cat.Printer(lang.English), "alice", &transfer.Result{Batch: &transfer.Batch{ID: int32(100 + i), Size: 2}})
	}
	if n := len(h.batches); n > maxBatchesPerPerson {
		t.Fatalf("one person holds %d exports", n)
	}
	// Many people: the total is capped.
	for i := 0; i < 3*maxBatches; i++ {
		h.noteBatchParts(h.cat.Printer(lang.English), fmt.Sprint("p", i), &transfer.Result{Batch: &transfer.Batch{ID: 7, Size: 2}})
	}
	if n := len(h.batches); n > maxBatches {
		t.Fatalf("%d exports remembered", n)
	}
	// And they expire.
	clock.Advance(2 * batchTTL)
	h.noteBatchParts(h.cat.Printer(lang.English), "bob", &transfer.Result{Batch: &transfer.Batch{ID: 9, Size: 3}})
	if n := len(h.batches); n != 1 {
		t.Fatalf("%d exports after they expired, want 1", n)
	}
}

// TestLimiterBounded: strangers' names cannot grow the rate limiter
// without bound.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter(DefaultRateLimits)
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < maxBuckets+5000; i++ {
		l.take(fmt.Sprint("telegram:", i), "lock", now)
	}
	if n := len(l.b); n > maxBuckets {
		t.Fatalf("%d buckets", n)
	}
}
