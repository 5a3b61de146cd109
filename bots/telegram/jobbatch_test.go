package telegram

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/internal/testkit"
)

// TestJobBatch: replies stored while a write runs go out together in the
// next one, each caller returns only once its own jobs are stored, and a
// failed write reaches every caller of its batch.
func TestJobBatch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		callers int
		fail    bool // the writes run on a cancelled context
	}{
		{"one caller", 1, false},
		{"callers during a write share the next", 20, false},
		{"a failed write fails its whole batch", 8, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ob := testkit.Outbox(t, outbox.Options{Platform: Platform, MaxAge: MaxDeleteAge})
			var writes atomic.Int32
			hold := make(chan struct{})
			ctx := context.Background()
			if tc.fail {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			g := &jobBatch{write: func(ctx context.Context, jobs ...outbox.Job) error {
				if writes.Add(1) == 1 {
					<-hold // the first write is slow: everyone else queues
				}
				return ob.Add(ctx, jobs...)
			}}
			var wg sync.WaitGroup
			var stored sync.Map // caller -> its store returned nil and its jobs are in the outbox
			errs := make(chan error, tc.callers)
			for i := range tc.callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					msg := strconv.Itoa(100 + i)
					at := time.Now().Add(time.Hour)
					err := g.store(ctx, []outbox.Job{
						{Action: outbox.Edit, Chat: "1001", Message: msg, At: at, Payload: []byte(`{"t":"x"}`)},
						{Action: outbox.Delete, Chat: "1001", Message: msg, At: at.Add(time.Minute)},
					})
					if err != nil {
						errs <- err
						return
					}
					n := 0
					for _, j := range ob.Jobs() {
						if j.Message == msg {
							n++
						}
					}
					stored.Store(i, n)
				}()
				if i == 0 {
					for writes.Load() == 0 { // the first caller is writing
						time.Sleep(time.Millisecond)
					}
				}
			}
			time.Sleep(50 * time.Millisecond) // the others queue up behind it
			close(hold)
			wg.Wait()
			close(errs)
			failed := 0
			for range errs {
				failed++
			}
			if tc.fail {
				if failed != tc.callers || ob.Len() != 0 {
					t.Fatalf("%d of %d callers saw the failure, %d jobs stored", failed, tc.callers, ob.Len())
				}
				return
			}
			if failed > 0 || ob.Len() != 2*tc.callers {
				t.Fatalf("%d failures, %d jobs stored, want %d", failed, ob.Len(), 2*tc.callers)
			}
			stored.Range(func(k, v any) bool {
				if v.(int) != 2 {
					t.Errorf("caller %v returned before its jobs were stored (%d of 2)", k, v)
				}
				return true
			})
			if w, max := writes.Load(), int32(min(tc.callers, 2)); w > max {
				t.Errorf("%d writes for %d callers, want %d (one, then one batch)", w, tc.callers, max)
			}
		})
	}
}
