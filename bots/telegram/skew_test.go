package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/observe"
)

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// offsetClock is the real time shifted by a settable offset. The fake Bot
// API dates messages with the real time, so a clock that stood still would
// drift from it as the test runs, and a slow run (-race on a busy machine)
// would measure its own duration instead of the offset.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *offsetClock) set(d time.Duration) { c.offset.Store(int64(d)) }

// TestClockSkewFromUpdateDates: a server clock 40 s ahead of Telegram's
// dates (an offset clock; the fake Bot API dates messages with the real time)
// gives a median skew past the limit: one warning in the log, the gauge,
// and one notice in the admin's private chat however many messages follow;
// once the clock is right again the log says so.
func TestClockSkewFromUpdateDates(t *testing.T) {
	clock := &offsetClock{}
	clock.set(40 * time.Second)
	skew := observe.New(0).ClockSkew()
	var logs syncLog
	var hs *harness
	skew.OnSkew(slog.New(slog.NewTextHandler(&logs, nil)), func(ctx context.Context, d time.Duration) {
		hs.bot.Reach(ctx, commands.Reply{To: "alice", Parts: []commands.Part{{Text: observe.SkewNotice(d)}}})
	})
	hs = start(t, &fakeHandler{}, func(c *telegram.Config) { c.Clock = clock; c.Skew = skew })
	// The first poll's answer may be a backlog: it is not sampled.
	hs.wait(0, telegramtest.Method("getUpdates", 0))
	hs.wait(hs.api.NumCalls(), telegramtest.Method("getUpdates", 0))
	// Only a long poll's answer is sampled (a short poll, made while an
	// update is still in progress, may bring updates that waited), so each
	// message is sent while the bot waits in a long poll; otherwise a fast
	// machine sends every message during a short poll and nothing is
	// sampled.
	longPoll := func(c telegramtest.Call) bool {
		return c.Method == "getUpdates" && c.Fields["timeout"] != "" && c.Fields["timeout"] != "0"
	}
	mark := hs.api.NumCalls()
	say := func(text string) {
		t.Helper()
		hs.wait(mark, longPoll)
		n := hs.api.NumCalls()
		hs.api.SendText(telegramtest.Private(bob), telegramtest.User{ID: bob}, text)
		hs.wait(n, sendTo(bob))
		mark = hs.api.NumCalls()
	}
	notices := func() int {
		k := 0
		for _, c := range hs.api.CallsTo("sendMessage") {
			if strings.Contains(c.Fields["text"], "ahead of the chat servers") {
				k++
			}
		}
		return k
	}
	for i := 0; i < 30 && notices() == 0; i++ {
		say("/list")
	}
	if notices() != 1 {
		t.Fatalf("admin notices = %d, want 1; log:\n%s", notices(), logs.String())
	}
	for _, c := range hs.api.CallsTo("sendMessage") {
		if strings.Contains(c.Fields["text"], "ahead of") && c.Fields["chat_id"] != strconv.FormatInt(alice, 10) {
			t.Errorf("notice went to chat %s, want alice's private chat", c.Fields["chat_id"])
		}
	}
	d, ok := skew.Skew()
	if !ok || d < 38*time.Second || d > 42*time.Second {
		t.Errorf("skew = %v, %v; want about 40 s", d, ok)
	}
	for range 5 {
		say("/list")
	}
	if notices() != 1 || strings.Count(logs.String(), "the server clock is off") != 1 {
		t.Errorf("told %d times, warned %d times; want once each:\n%s", notices(), strings.Count(logs.String(), "the server clock is off"), logs.String())
	}
	clock.set(0)
	for i := 0; i < 40 && !strings.Contains(logs.String(), "agrees with the chat platforms again"); i++ {
		say("/list")
	}
	if !strings.Contains(logs.String(), "agrees with the chat platforms again") {
		t.Errorf("no all-clear in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "/list") {
		t.Errorf("the log quotes a message:\n%s", logs.String())
	}
}
