//go:build goolm

package matrix

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/internal/testkit"
)

func TestRenderText(t *testing.T) {
	tests := []struct {
		name        string
		reply       commands.Reply
		body, html  string
		wantNothing bool
	}{
		{
			name:  "code span",
			reply: commands.Reply{Parts: []commands.Part{{Text: "binance: "}, {Text: "123 456", Code: true}}},
			body:  "binance: 123 456",
			html:  "binance: <code>123 456</code>",
		},
		{
			name:  "hostile text is escaped",
			reply: commands.Reply{Parts: []commands.Part{{Text: "<script>&\"x\"\n"}, {Text: "</code><b>", Code: true}}},
			body:  "<script>&\"x\"\n</code><b>",
			html:  "&lt;script&gt;&amp;&#34;x&#34;<br><code>&lt;/code&gt;&lt;b&gt;</code>",
		},
		{
			name: "buttons become a numbered list",
			reply: commands.Reply{
				Parts:   []commands.Part{{Text: "Which one?"}},
				Buttons: [][]commands.Button{{{Label: "Binance (a)", Data: "/code binance"}}, {{Label: "/code <x>", Data: "/code <x>"}, {Label: "", Data: " "}}},
			},
			body: "Which one?\n\nReply with a number:\n1. Binance (a)\n2. /code <x>",
			html: "Which one?<p>Reply with a number:</p><ol><li>Binance (a)</li><li>/code &lt;x&gt;</li></ol>",
		},
		{
			name: "options show labels, never the data behind them",
			reply: commands.Reply{
				Parts:   []commands.Part{{Text: "binance: "}, {Text: "123456", Code: true}},
				Buttons: [][]commands.Button{{{Label: "Refresh", Data: "/code #1eb55fefeaeeb131"}, {Data: "/cancel"}}},
			},
			body: "binance: 123456\n\nReply with a number:\n1. Refresh\n2. Option 2",
			html: "binance: <code>123456</code><p>Reply with a number:</p><ol><li>Refresh</li><li>Option 2</li></ol>",
		},
		{name: "image only has no text", reply: commands.Reply{Image: &commands.File{Name: "qr.png"}}, wantNothing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderText(tt.reply)
			if tt.wantNothing {
				if got != nil {
					t.Fatalf("renderText = %+v, want nil", got)
				}
				return
			}
			if got.MsgType != event.MsgNotice || got.Format != event.FormatHTML {
				t.Errorf("msgtype %q format %q", got.MsgType, got.Format)
			}
			if got.Body != tt.body {
				t.Errorf("body\n got %q\nwant %q", got.Body, tt.body)
			}
			if got.FormattedBody != tt.html {
				t.Errorf("html\n got %q\nwant %q", got.FormattedBody, tt.html)
			}
		})
	}
}

func TestExpiredEdit(t *testing.T) {
	e := expiredEdit("$abc")
	if e.RelatesTo == nil || e.RelatesTo.Type != event.RelReplace || e.RelatesTo.EventID != "$abc" {
		t.Errorf("relates_to = %+v", e.RelatesTo)
	}
	if e.NewContent == nil || e.NewContent.Body != expiredText(nil) || e.NewContent.MsgType != event.MsgNotice || e.NewContent.FormattedBody == "" {
		t.Errorf("new content = %+v", e.NewContent)
	}
	if e.MsgType != event.MsgNotice || e.Body != "* "+expiredText(nil) {
		t.Errorf("fallback = %q %q", e.MsgType, e.Body)
	}
}

func TestOptionNumbers(t *testing.T) {
	for in, want := range map[string]int{"1": 1, " 2 ": 2, "3.": 3, "4)": 4, "12": 12, "0": 0, "x": 0, "1 2": 0, "123": 0, "": 0, "-1": 0} {
		if got := optionNumber(in); got != want {
			t.Errorf("optionNumber(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]int{"1\ufe0f\u20e3": 1, "9\u20e3": 9, "🔟": 10, "0\ufe0f\u20e3": 0, "👍": 0, "1": 0} {
		if got := reactionNumber(in); got != want {
			t.Errorf("reactionNumber(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestChoices(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newChoices()
	c.offer("!r", "@a:x", "$m", []string{"/code #1", "/cancel"}, now)
	if _, ok := c.pick("!r", "@b:x", "", 1, now); ok {
		t.Error("another person picked alice's option")
	}
	if _, ok := c.pick("!other", "@a:x", "", 1, now); ok {
		t.Error("an option was picked in another room")
	}
	if _, ok := c.pick("!r", "@a:x", "", 3, now); ok {
		t.Error("option 3 of 2 was picked")
	}
	if _, ok := c.pick("!r", "@a:x", "$old", 1, now); ok {
		t.Error("a reaction to another message picked an option")
	}
	if got, ok := c.pick("!r", "@a:x", "$m", 2, now.Add(choiceTTL-time.Second)); !ok || got != "/cancel" {
		t.Errorf("pick = %q %v", got, ok)
	}
	if _, ok := c.pick("!r", "@a:x", "", 1, now); ok {
		t.Error("a used set was picked again")
	}
	c.offer("!r", "@a:x", "$m2", []string{"/code #1"}, now)
	if _, ok := c.pick("!r", "@a:x", "", 1, now.Add(choiceTTL)); ok {
		t.Error("an expired option was picked")
	}
	c.offer("!r", "@a:x", "$m3", []string{"/code #1"}, now)
	c.offer("!r", "@a:x", "$m4", nil, now) // a reply without buttons
	if _, ok := c.pick("!r", "@a:x", "", 1, now); ok {
		t.Error("options outlived a later reply without buttons")
	}
}

func TestKindOf(t *testing.T) {
	const self, alice, bob = id.UserID("@bot:x"), id.UserID("@alice:x"), id.UserID("@bob:x")
	tests := []struct {
		name    string
		members []id.UserID
		sender  id.UserID
		want    commands.ChatKind
	}{
		{"dm", []id.UserID{alice, self}, alice, commands.Private},
		{"three people", []id.UserID{alice, self, bob}, alice, commands.Group},
		{"sender not a member", []id.UserID{bob, self}, alice, commands.Group},
		{"membership unknown", nil, alice, commands.Group},
		{"bot alone", []id.UserID{self}, alice, commands.Group},
		{"duplicate entries", []id.UserID{self, self}, self, commands.Group},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kindOf(tt.members, self, tt.sender); got != tt.want {
				t.Errorf("kindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 30 * time.Second}, {1000, 30 * time.Second}}
	for _, tt := range tests {
		if got := backoff(time.Second, 30*time.Second, tt.n); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"wrapped network error", fmt.Errorf("whoami: %w", &net.OpError{Op: "read", Err: errors.New("reset")}), true},
		{"rate limited", mautrix.MLimitExceeded, true},
		{"bad password", fmt.Errorf("login: %w", mautrix.MForbidden), false},
		{"canceled", context.Canceled, false},
		{"other", errors.New("mismatching device ID in client and crypto store"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryable(tt.err); got != tt.want {
				t.Errorf("retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestMigratePendingFile: an upgrade moves an old pending.json into the
// outbox once, in time order, and removes it; a damaged file stops the
// start with an error naming it, and stays.
func TestMigratePendingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, pendingFile)
	old := `[{"action":"expire","room":"!r:x","event":"$soon","at":"2026-01-02T03:04:35Z"},` +
		`{"action":"redact","room":"!r:x","event":"$late","at":"2026-01-02T03:06:05Z","tries":2},` +
		`{"action":"rm -rf","room":"!r:x","event":"$bad","at":"2026-01-02T03:00:00Z"}]`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	box := testOutbox(t, testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if err := migratePending(context.Background(), path, box, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	jobs := box.Jobs()
	if len(jobs) != 2 || jobs[0].Message != "$soon" || jobs[0].Action != outbox.Edit || jobs[1].Message != "$late" || jobs[1].Action != outbox.Delete || jobs[1].Chat != "!r:x" {
		t.Fatalf("moved %+v", jobs)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pending.json is still there: %v", err)
	}
	// A second start finds nothing to move.
	if err := migratePending(context.Background(), path, box, testLogger(t)); err != nil || box.Len() != 2 {
		t.Errorf("second start: %v, %d jobs", err, box.Len())
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := migratePending(context.Background(), path, box, testLogger(t)); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a damaged file: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("a damaged pending.json was removed: %v", err)
	}
}

func TestJobErrors(t *testing.T) {
	var perm *outbox.PermanentError
	var retry *outbox.RetryError
	if err := jobError(mautrix.MForbidden); !errors.As(err, &perm) {
		t.Errorf("forbidden: %v", err)
	}
	if err := jobError(fmt.Errorf("redact: %w", mautrix.MNotFound)); !errors.Is(err, outbox.ErrGone) {
		t.Errorf("not found: %v", err)
	}
	limited := mautrix.HTTPError{RespError: &mautrix.RespError{ErrCode: "M_LIMIT_EXCEEDED", ExtraData: map[string]any{"retry_after_ms": 2500.0}}}
	if err := jobError(limited); !errors.As(err, &retry) || retry.After != 2500*time.Millisecond {
		t.Errorf("rate limited: %v", err)
	}
	if err := jobError(errors.New("connection refused")); errors.As(err, &perm) || errors.As(err, &retry) || errors.Is(err, outbox.ErrGone) {
		t.Errorf("a network error is not retried with back-off: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	ok := Config{Homeserver: "http://x", UserID: "@bot:x", Password: "p", StateDir: "d", PickleKey: make([]byte, 32), Handler: &fakeHandler{}, Outbox: testOutbox(t, nil)}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := map[string]func(*Config){
		"no homeserver": func(c *Config) { c.Homeserver = "" },
		"bad user id":   func(c *Config) { c.UserID = "bot" },
		"no secret":     func(c *Config) { c.Password = "" },
		"short pickle":  func(c *Config) { c.PickleKey = []byte("k") },
		"no handler":    func(c *Config) { c.Handler = nil },
		"no state dir":  func(c *Config) { c.StateDir = "" },
		"no outbox":     func(c *Config) { c.Outbox = nil },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			c := ok
			mutate(&c)
			if _, err := New(c); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

// handlerOnly answers requests and is no commands.Directory.
type handlerOnly struct{}

func (handlerOnly) Handle(context.Context, commands.Request) []commands.Reply { return nil }

// TestPeopleComeFromTheDirectory: who a sender is and where a person is
// reached is the handler's directory's answer, and only its: a handler
// that is no directory knows nobody.
func TestPeopleComeFromTheDirectory(t *testing.T) {
	const alice, bob, stranger = id.UserID("@alice:x"), id.UserID("@bob:x"), id.UserID("@eve:x")
	dir := new(fakeHandler).serve(alice, "alice").serve(bob, "bob")
	tests := []struct {
		name       string
		handler    Handler
		sender     id.UserID
		wantPerson string // "" for a stranger
		person     string // whose users to look up
		wantUsers  []id.UserID
	}{
		{name: "a person", handler: dir, sender: alice, wantPerson: "alice", person: "bob", wantUsers: []id.UserID{bob}},
		{name: "a stranger", handler: dir, sender: stranger, person: "carol"},
		{name: "no directory", handler: handlerOnly{}, sender: alice, person: "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Bot{cfg: Config{Handler: tt.handler}, log: testLogger(t)}
			ctx := context.Background()
			if p, ok := b.personOf(ctx, tt.sender); p != tt.wantPerson || ok != (tt.wantPerson != "") {
				t.Errorf("personOf(%s) = %q, %v; want %q", tt.sender, p, ok, tt.wantPerson)
			}
			if got := b.usersOf(ctx, tt.person); !slices.Equal(got, tt.wantUsers) {
				t.Errorf("usersOf(%s) = %v, want %v", tt.person, got, tt.wantUsers)
			}
		})
	}
}
