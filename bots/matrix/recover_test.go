//go:build goolm

package matrix

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestWorkerSurvivesPanic: a message whose handling panics is logged (no
// contents) and the room's worker goes on to the next message, like the
// Telegram dispatcher.
func TestWorkerSurvivesPanic(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	b, err := New(Config{Homeserver: "http://x", UserID: "@bot:x", Password: "p", StateDir: t.TempDir(), PickleKey: make([]byte, 32),
		Handler: &fakeHandler{}, Outbox: testOutbox(t, nil), Log: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	b.workCtx = context.Background()
	handled := make(chan id.EventID, 2)
	b.handleEvent = func(ctx context.Context, evt *event.Event) {
		if evt.ID == "$poison" {
			var m map[string]int
			//lint:ignore SA5000 the panic is the point: a poison event must not stop the bot
			m["secret JBSWY3DPEHPK3PXP"]++ // nil map: a runtime panic
		}
		handled <- evt.ID
	}
	q := make(chan *event.Event, 2)
	b.workers.Add(1)
	go b.worker(q)
	q <- &event.Event{ID: "$poison", RoomID: "!r:x"}
	q <- &event.Event{ID: "$next", RoomID: "!r:x"}
	select {
	case got := <-handled:
		if got != "$next" {
			t.Fatalf("handled %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the worker died with the panic")
	}
	close(b.stopping)
	b.workers.Wait()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "handler panicked") || strings.Contains(logs.String(), "JBSWY3DPEHPK3PXP") {
		t.Fatalf("log: %s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
