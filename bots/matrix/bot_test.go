//go:build goolm

package matrix

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/internal/testkit"
)

const botPassword = "bot-password-123"

// runningBot is an in-process bot under test.
type runningBot struct {
	t      testing.TB
	bot    *Bot
	cfg    Config
	cancel context.CancelFunc
	done   chan error
}

// botConfig registers a fresh bot account and returns a config for it.
// Who is who the handler says (a fakeHandler's people, realHandler's
// config users): the adapter has no list of its own.
func botConfig(t testing.TB, h *homeserver, h2 Handler) Config {
	t.Helper()
	local := h.Register(t, "bot", botPassword)
	return Config{
		Homeserver: h.URL,
		UserID:     id.UserID(h.UserID(local)),
		Password:   botPassword,
		StateDir:   t.TempDir() + "/matrix",
		PickleKey:  []byte("0123456789abcdef0123456789abcdef"),
		Handler:    h2,
		Outbox:     testOutbox(t, nil),
		// Each bot's cross-signing keys are sealed in its own state dir.
		CrossSigningKey: []byte("cross-signing-seal-key-32-bytes!"),
		Log:             testLogger(t),
		RetryMin:        100 * time.Millisecond,
		RetryMax:        time.Second,
	}
}

// testOutbox is a real outbox over a bbolt file in t's temp dir.
func testOutbox(t testing.TB, clock outbox.Clock) *outbox.Outbox {
	t.Helper()
	return testkit.Outbox(t, outbox.Options{Platform: Platform, Clock: clock})
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() || os.Getenv("AUTHBOT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// startBot runs a bot until the test ends (or stop is called) and waits
// until its first sync is done.
func startBot(t testing.TB, cfg Config) *runningBot {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rb := &runningBot{t: t, bot: b, cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { rb.done <- b.Run(ctx) }()
	t.Cleanup(func() { rb.stop() })
	select {
	case <-b.ready:
	case err := <-rb.done:
		rb.done <- err
		t.Fatalf("bot stopped at start: %v", err)
	case <-time.After(waitFor):
		t.Fatal("bot did not finish its first sync")
	}
	return rb
}

// stop shuts the bot down and checks that Run returned cleanly.
func (rb *runningBot) stop() {
	rb.t.Helper()
	if rb.cancel == nil {
		return
	}
	rb.cancel()
	rb.cancel = nil
	select {
	case err := <-rb.done:
		if err != nil {
			rb.t.Errorf("bot Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		rb.t.Error("bot did not stop within 30 s")
	}
}

func (rb *runningBot) id() id.UserID { return rb.cfg.UserID }

// fakeHandler records requests and answers with reply. It is also the
// people directory the adapter asks (commands.Directory), map-backed:
// people are the Matrix users it serves (serve adds one), strangers get
// no replies, so the adapter refuses them as usual.
type fakeHandler struct {
	mu     sync.Mutex
	reqs   []commands.Request
	reply  func(commands.Request) []commands.Reply
	people map[id.UserID]string // Matrix user -> person name
}

var _ commands.Directory = (*fakeHandler)(nil)

// serve makes user the person named person.
func (f *fakeHandler) serve(user id.UserID, person string) *fakeHandler {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.people == nil {
		f.people = map[id.UserID]string{}
	}
	f.people[user] = person
	return f
}

func (f *fakeHandler) PersonFor(_ context.Context, platform, identity string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if platform != Platform {
		return "", nil
	}
	return f.people[id.UserID(identity)], nil
}

func (f *fakeHandler) IdentitiesOf(_ context.Context, person, platform string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for u, p := range f.people {
		if p == person && platform == Platform {
			out = append(out, u.String())
		}
	}
	return out, nil
}

func (f *fakeHandler) HandleStranger(context.Context, string, string, commands.ChatKind, string, string) (string, []commands.Reply) {
	return "", nil
}

func (f *fakeHandler) ExpectsNewcomers(context.Context) bool { return false }

func (f *fakeHandler) Handle(_ context.Context, req commands.Request) []commands.Reply {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	fn := f.reply
	f.mu.Unlock()
	if fn == nil {
		return []commands.Reply{{Parts: []commands.Part{{Text: "ok: " + req.Text}}}}
	}
	return fn(req)
}

func (f *fakeHandler) requests() []commands.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]commands.Request(nil), f.reqs...)
}
