//go:build goolm

package matrix

import (
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/matrix/matrixtest"
)

type countingObserver struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingObserver) Undecryptable(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[reason]++
}

func (c *countingObserver) count(reason string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[reason]
}

// TestWithheldKeyGetsNotice: a person whose client shares keys with
// verified sessions only gets told so, instead of silence.
func TestWithheldKeyGetsNotice(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	f := &fakeHandler{}
	alice := matrixtest.NewPerson(t, h, "alice")
	cfg := botConfig(t, h, f.serve(alice.ID(), "alice"))
	metrics := &countingObserver{}
	cfg.Metrics = metrics
	bot := startBot(t, cfg)
	room := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(room, bot.id())

	// Element's "never send encrypted messages to unverified sessions".
	alice.Machine().SendKeysMinTrust = id.TrustStateCrossSignedVerified
	since := time.Now()
	alice.Send(room, "!code binance")
	notice := alice.Wait("the undecryptable notice", replyFrom(room, bot.id(), since))
	if !matrixtest.Decrypted(notice) || notice.Content.AsMessage().MsgType != event.MsgNotice {
		t.Errorf("the notice is not an encrypted m.notice: %+v", notice.Content.AsMessage())
	}
	if body := notice.Content.AsMessage().Body; !strings.Contains(body, "not share keys with unverified sessions") || !strings.Contains(body, "Verify me") {
		t.Errorf("notice = %q", body)
	}
	if got := metrics.count(reasonUnverified); got != 1 {
		t.Errorf("withheld_unverified counted %d times, want 1", got)
	}
	if reqs := f.requests(); len(reqs) != 0 {
		t.Errorf("the handler got %+v from a message the bot could not read", reqs)
	}
}

func TestNoticeLimiter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newNoticeLimiter()
	if !l.allow("@a:x", reasonUnverified, now) {
		t.Fatal("first notice refused")
	}
	if l.allow("@a:x", reasonUnverified, now.Add(noticeInterval-time.Second)) {
		t.Error("second notice within the interval allowed")
	}
	if !l.allow("@a:x", reasonNoSession, now) || !l.allow("@b:x", reasonUnverified, now) {
		t.Error("another reason or person was limited")
	}
	if !l.allow("@a:x", reasonUnverified, now.Add(noticeInterval)) {
		t.Error("a notice after the interval was refused")
	}
}
