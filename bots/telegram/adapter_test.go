package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/bots/telegram"
	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/internal/testkit"
)

const token = "123456:TEST-token_abc"

const (
	alice = int64(1001)
	bob   = int64(1002)
	eve   = int64(6666) // not in the config
)

// fakeHandler answers with whatever reply func returns and records every
// request. It is a hand-written fake for transport-only tests.
type fakeHandler struct {
	mu    sync.Mutex
	reqs  []commands.Request
	reply func(commands.Request) []commands.Reply
}

func (h *fakeHandler) Handle(_ context.Context, req commands.Request) []commands.Reply {
	h.mu.Lock()
	h.reqs = append(h.reqs, req)
	f := h.reply
	h.mu.Unlock()
	if f == nil {
		return []commands.Reply{{Parts: []commands.Part{{Text: "echo: " + req.Text}}}}
	}
	return f(req)
}

func (h *fakeHandler) requests() []commands.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]commands.Request(nil), h.reqs...)
}

// newOutbox is a real outbox over a bbolt file in t's temp dir.
func newOutbox(t testing.TB, clock outbox.Clock) *outbox.Outbox {
	t.Helper()
	return testkit.Outbox(t, outbox.Options{Platform: telegram.Platform, Clock: clock, MaxAge: telegram.MaxDeleteAge})
}

type harness struct {
	t    *testing.T
	api  *telegramtest.Server
	h    *fakeHandler
	bot  *telegram.Bot
	stop func() error
	// stopWith stops Run with a cause (stop is stopWith(nil): a shutdown).
	stopWith func(cause error) error
}

func start(t *testing.T, h *fakeHandler, tweak func(*telegram.Config)) *harness {
	t.Helper()
	api := telegramtest.New(token)
	t.Cleanup(api.Close)
	api.LongPoll = 200 * time.Millisecond
	cfg := telegram.Config{
		Token:       token,
		APIURL:      api.URL(),
		Handler:     directory{h, map[int64]string{alice: "alice", bob: "bob"}},
		Menu:        []telegram.MenuItem{{Command: "code", Description: "Show the current code"}, {Command: "Bad Name", Description: "x"}},
		PollTimeout: time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	if cfg.Outbox == nil {
		cfg.Outbox = newOutbox(t, cfg.Clock)
	}
	b, err := telegram.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	var once sync.Once
	var runErr error
	stopWith := func(cause error) error {
		once.Do(func() {
			cancel(cause)
			select {
			case runErr = <-errc:
			case <-time.After(30 * time.Second):
				runErr = fmt.Errorf("Run did not return")
			}
		})
		return runErr
	}
	stop := func() error { return stopWith(nil) }
	t.Cleanup(func() { _ = stop() })
	return &harness{t: t, api: api, h: h, bot: b, stop: stop, stopWith: stopWith}
}

// wait polls the fake for a call, failing the test after a deadline.
func (hs *harness) wait(after int, match func(telegramtest.Call) bool) telegramtest.Call {
	hs.t.Helper()
	c, _, ok := hs.api.WaitCall(after, 10*time.Second, match)
	if !ok {
		var names []string
		for _, c := range hs.api.Calls() {
			if c.Method != "getUpdates" {
				names = append(names, c.Method+"["+c.Error+"]")
			}
		}
		hs.t.Fatalf("expected call did not come; calls: %v", names)
	}
	return c
}

func sendTo(chat int64) func(telegramtest.Call) bool {
	return telegramtest.Method("sendMessage", chat)
}

func TestPrivateCodeReply(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		return []commands.Reply{{
			Parts:     []commands.Part{{Text: "binance <main> & co: "}, {Text: "123456", Code: true}, {Text: " (20 s left)"}},
			Buttons:   [][]commands.Button{{{Label: "🔄 Refresh", Data: "/code binance"}}},
			Sensitive: true,
		}}
	}}
	hs := start(t, h, nil)
	menu := hs.wait(0, telegramtest.Method("setMyCommands", 0))
	if strings.Contains(menu.Fields["commands"], "Bad Name") || !strings.Contains(menu.Fields["commands"], `"code"`) {
		t.Errorf("setMyCommands %s", menu.Fields["commands"])
	}
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code@"+telegramtest.BotUsername+" binance")
	c := hs.wait(n, sendTo(alice))
	if want := "binance &lt;main&gt; &amp; co: <code>123456</code> (20 s left)"; c.Fields["text"] != want {
		t.Errorf("text %q, want %q", c.Fields["text"], want)
	}
	if c.Fields["parse_mode"] != "HTML" {
		t.Errorf("parse_mode %q", c.Fields["parse_mode"])
	}
	if strings.Contains(c.Fields["reply_markup"], "copy_text") || !strings.Contains(c.Fields["reply_markup"], `"callback_data":"/code binance"`) {
		t.Errorf("reply_markup %s", c.Fields["reply_markup"])
	}
	got := h.requests()
	if len(got) != 1 || got[0].Person != "alice" || got[0].Chat != commands.Private || got[0].Text != "/code binance" || got[0].Platform != "telegram" {
		t.Errorf("request %+v", got)
	}
	// Pressing the button comes back as a callback.
	n = hs.api.NumCalls()
	hs.api.PressButton(telegramtest.Private(alice), telegramtest.User{ID: alice}, c.MessageID, "/code binance")
	hs.wait(n, telegramtest.Method("answerCallbackQuery", 0))
	hs.wait(n, sendTo(alice))
	got = h.requests()
	if len(got) != 2 || !got[1].Callback || got[1].Text != "/code binance" {
		t.Errorf("callback request %+v", got[len(got)-1])
	}
	if err := hs.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownPersonRefused(t *testing.T) {
	h := &fakeHandler{}
	hs := start(t, h, nil)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(eve), telegramtest.User{ID: eve}, "/code binance")
	c := hs.wait(n, sendTo(eve))
	if !strings.Contains(c.Fields["text"], "6666") || strings.Contains(c.Fields["text"], "binance") {
		t.Errorf("refusal %q", c.Fields["text"])
	}
	// A button press too: answered, never handled.
	n = hs.api.NumCalls()
	hs.api.PressButton(telegramtest.Private(eve), telegramtest.User{ID: eve}, 1, "/code x")
	a := hs.wait(n, telegramtest.Method("answerCallbackQuery", 0))
	if !strings.Contains(a.Fields["text"], "6666") {
		t.Errorf("callback refusal %q", a.Fields["text"])
	}
	hs.stop()
	if len(h.requests()) != 0 {
		t.Errorf("handler saw an unknown person: %+v", h.requests())
	}
}

func TestGroupNeverGetsSensitive(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		// A broken handler that answers with a code even in a group.
		return []commands.Reply{{Parts: []commands.Part{{Text: "999999", Code: true}}, Sensitive: true, DeleteRequest: true}}
	}}
	hs := start(t, h, nil)
	group := telegramtest.Group(-5001)
	hs.api.Undeletable(group.ID)
	n := hs.api.NumCalls()
	hs.api.SendText(group, telegramtest.User{ID: bob}, "hello everyone") // not a command: ignored
	hs.api.SendText(group, telegramtest.User{ID: bob}, "/code@someotherbot x")
	hs.api.SendText(group, telegramtest.User{ID: bob}, "/add github JBSWY3DPEHPK3PXP")
	c := hs.wait(n, sendTo(group.ID))
	if strings.Contains(c.Fields["text"], "999999") || !strings.Contains(c.Fields["text"], "private chat") {
		t.Errorf("group got %q", c.Fields["text"])
	}
	if !strings.Contains(c.Fields["text"], "delete it yourself") || !strings.Contains(c.Fields["text"], "admin") {
		t.Errorf("group reply does not ask to delete: %q", c.Fields["text"])
	}
	if !strings.Contains(c.Fields["reply_markup"], `"url":"https://t.me/`+telegramtest.BotUsername+`"`) {
		t.Errorf("no private-chat button: %s", c.Fields["reply_markup"])
	}
	hs.stop()
	reqs := h.requests()
	if len(reqs) != 1 || reqs[0].Chat != commands.Group {
		t.Fatalf("handler requests %+v", reqs)
	}
	for _, c := range hs.api.Calls() {
		if strings.Contains(c.Fields["text"], "999999") {
			t.Fatalf("a code left a private chat: %s %v", c.Method, c.Fields)
		}
	}
}

func TestDeleteSecretMessage(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		return []commands.Reply{{Parts: []commands.Part{{Text: "Added github. I deleted your message."}}, DeleteRequest: true}}
	}}
	hs := start(t, h, nil)
	n := hs.api.NumCalls()
	id := hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/add github JBSWY3DPEHPK3PXP")
	del := hs.wait(n, telegramtest.Method("deleteMessage", alice))
	if del.Fields["message_id"] != fmt.Sprint(id) {
		t.Errorf("deleted %s, want %d", del.Fields["message_id"], id)
	}
	c := hs.wait(n, sendTo(alice))
	if strings.Contains(c.Fields["text"], "yourself") {
		t.Errorf("deletion worked but the reply says %q", c.Fields["text"])
	}
	if m, _ := hs.api.Message(id); !m.Deleted {
		t.Error("the message with the secret is still there")
	}
}

func TestPhotoAttachment(t *testing.T) {
	h := &fakeHandler{}
	hs := start(t, h, nil)
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 100)
	n := hs.api.NumCalls()
	hs.api.SendPhoto(telegramtest.Private(alice), telegramtest.User{ID: alice}, img, "", 0)
	hs.wait(n, sendTo(alice))
	reqs := h.requests()
	if len(reqs) != 1 || reqs[0].Attachment == nil || !reqs[0].Attachment.Image || !bytes.Equal(reqs[0].Attachment.Data, img) {
		t.Fatalf("attachment not handed over: %+v", reqs)
	}
	// Too large by the reported size: refused before any download.
	n = hs.api.NumCalls()
	hs.api.SendPhoto(telegramtest.Private(alice), telegramtest.User{ID: alice}, img, "", commands.MaxAttachmentBytes+1)
	c := hs.wait(n, sendTo(alice))
	if !strings.Contains(c.Fields["text"], "too large") {
		t.Errorf("reply %q", c.Fields["text"])
	}
	for _, c := range hs.api.Calls()[n:] {
		if c.Method == "getFile" || c.Method == "download" {
			t.Errorf("downloaded a file over the limit")
		}
	}
	// A document that is an image.
	n = hs.api.NumCalls()
	hs.api.SendDocument(telegramtest.Private(alice), telegramtest.User{ID: alice}, "qr.png", "image/png", img, "")
	hs.wait(n, sendTo(alice))
	reqs = h.requests()
	if last := reqs[len(reqs)-1]; last.Attachment == nil || !last.Attachment.Image || last.Attachment.Name != "qr.png" {
		t.Errorf("document %+v", last.Attachment)
	}
}

func TestRetries(t *testing.T) {
	h := &fakeHandler{}
	hs := start(t, h, nil)
	hs.wait(0, telegramtest.Method("setMyCommands", 0))
	hs.api.Fail429("sendMessage", 1, 1)
	hs.api.Drop("sendMessage", 1)
	hs.api.FailWith("sendMessage", 1, 500, "Internal Server Error")
	hs.api.Fail429("getUpdates", 1, 1)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/list")
	ok := hs.wait(n, sendTo(alice))
	tries := hs.api.CallsTo("sendMessage")
	if len(tries) != 4 {
		t.Fatalf("%d sendMessage attempts, want 4 (429, drop, 500, ok)", len(tries))
	}
	if gap := ok.At.Sub(tries[0].At); gap < time.Second {
		t.Errorf("retried after %v, before retry_after=1s", gap)
	}
}

// expiringCode is the reply core gives to /code github: the code, a
// Refresh button, and an expiry soon enough for a test to watch the edit
// (300 ms) and the delete (800 ms). label is the account's shown name.
func expiringCode(label string) []commands.Reply {
	now := time.Now()
	return []commands.Reply{{
		Parts:          []commands.Part{{Text: label + ": "}, {Text: "654321", Code: true}},
		Buttons:        [][]commands.Button{{{Label: "Refresh", Data: "/code github"}}},
		CodeValidUntil: now.Add(300 * time.Millisecond),
		ExpiresAt:      now.Add(800 * time.Millisecond),
		Sensitive:      true,
	}}
}

func TestExpiryEditAndDelete(t *testing.T) {
	h := &fakeHandler{reply: func(commands.Request) []commands.Reply { return expiringCode("github") }}
	hs := start(t, h, nil)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code github")
	sent := hs.wait(n, sendTo(alice))
	edit := hs.wait(n, telegramtest.Method("editMessageText", alice))
	if edit.Fields["message_id"] != fmt.Sprint(sent.MessageID) || strings.Contains(edit.Fields["text"], "654321") || !strings.Contains(edit.Fields["text"], "expired") {
		t.Errorf("edit %v", edit.Fields)
	}
	if !strings.Contains(edit.Fields["reply_markup"], "/code github") {
		t.Errorf("refresh button lost: %s", edit.Fields["reply_markup"])
	}
	del := hs.wait(n, telegramtest.Method("deleteMessage", alice))
	if del.Fields["message_id"] != fmt.Sprint(sent.MessageID) {
		t.Errorf("deleted %v", del.Fields)
	}
}

func TestLongListSplit(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		var parts []commands.Part
		for i := range 500 {
			parts = append(parts, commands.Part{Text: fmt.Sprintf("%03d  account-with-a-long-name-%d  ", i, i)}, commands.Part{Text: "123 456", Code: true}, commands.Part{Text: "\n"})
		}
		return []commands.Reply{{Parts: parts, Buttons: [][]commands.Button{{{Label: "More", Data: "/list 2"}}}}}
	}}
	hs := start(t, h, nil)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/list")
	c := hs.wait(n, func(c telegramtest.Call) bool { return sendTo(alice)(c) && c.Fields["reply_markup"] != "" })
	var sends int
	for _, c := range hs.api.CallsTo("sendMessage") {
		if c.Error != "" {
			t.Fatalf("Telegram refused a part: %s", c.Error)
		}
		sends++
	}
	if sends < 6 || !strings.Contains(c.Fields["text"], "499") {
		t.Errorf("%d messages; last %q", sends, c.Fields["text"][:40])
	}
}

func TestPanicRecovered(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		if r.Text == "/boom" {
			panic("boom")
		}
		return []commands.Reply{{Parts: []commands.Part{{Text: "fine"}}}}
	}}
	hs := start(t, h, nil)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/boom")
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/ok")
	c := hs.wait(n, sendTo(alice))
	if c.Fields["text"] != "fine" {
		t.Errorf("got %q", c.Fields["text"])
	}
}

// TestInFlightUpdateNotLost: an update whose handler had not finished when
// the bot went away is fetched again by the next run (at-least-once), while
// finished ones are not repeated.
func TestInFlightUpdateNotLost(t *testing.T) {
	api := telegramtest.New(token)
	defer api.Close()
	api.LongPoll = 200 * time.Millisecond
	block := make(chan struct{})
	first := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		if r.Text == "/slow" {
			<-block
		}
		return []commands.Reply{{Parts: []commands.Part{{Text: "done " + r.Text}}}}
	}}
	run := func(h telegram.Handler, ctx context.Context) chan error {
		b, err := telegram.New(telegram.Config{Token: token, APIURL: api.URL(),
			Handler: directory{h, map[int64]string{alice: "alice", bob: "bob"}}, PollTimeout: time.Second, ShutdownGrace: 100 * time.Millisecond, Outbox: newOutbox(t, nil)})
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { errc <- b.Run(ctx) }()
		return errc
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := run(first, ctx)
	api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/fast")
	if _, _, ok := api.WaitCall(0, 10*time.Second, sendTo(alice)); !ok {
		t.Fatal("no reply to /fast")
	}
	api.SendText(telegramtest.Private(bob), telegramtest.User{ID: bob}, "/slow")
	deadline := time.Now().Add(10 * time.Second)
	for len(first.requests()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting for the handler to start, not for time logic
	}
	cancel() // the "crash": /slow is still in its handler after the grace
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	defer close(block)

	second := &fakeHandler{}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	errc2 := run(second, ctx2)
	if _, _, ok := api.WaitCall(0, 10*time.Second, func(c telegramtest.Call) bool {
		return sendTo(bob)(c) && c.Fields["text"] == "echo: /slow"
	}); !ok {
		t.Fatal("the unfinished /slow was lost")
	}
	cancel2()
	<-errc2
	for _, r := range second.requests() {
		if r.Text == "/fast" {
			t.Error("/fast was handled twice")
		}
	}
}

// waitHandling waits until h has been asked something (a handler that
// blocks: there is no reply to wait for).
func waitHandling(t *testing.T, h *fakeHandler) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the handler was never called")
		}
		time.Sleep(10 * time.Millisecond) // polling for the handler to start, not for time logic
	}
}

func TestGracefulShutdownWaits(t *testing.T) {
	release := make(chan struct{})
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		<-release
		return []commands.Reply{{Parts: []commands.Part{{Text: "finished"}}}}
	}}
	hs := start(t, h, nil)
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code x")
	waitHandling(t, h)
	stopped := make(chan error, 1)
	go func() { stopped <- hs.stop() }()
	select {
	case <-stopped:
		t.Fatal("Run returned while a command was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if len(hs.api.CallsTo("sendMessage")) != 1 {
		t.Error("the in-flight reply was not sent before Run returned")
	}
	if hs.api.Pending() != 0 {
		t.Error("the handled update was not confirmed at shutdown")
	}
}

// handover is the cause a lost lease cancels with (postgres.ErrLeaseLost
// has the same method).
type handover struct{}

func (handover) Error() string            { return "lease lost" }
func (handover) AnotherMayBeActive() bool { return true }

// TestNoPollAfterHandover: a shutdown confirms the handled updates with one
// last getUpdates; a stop because another process may be active now (a
// lost lease) must not poll again, since the new active process polls.
func TestNoPollAfterHandover(t *testing.T) {
	tests := []struct {
		name      string
		cause     error
		confirmed bool
	}{
		{"shutdown", nil, true},
		{"handover", fmt.Errorf("serve: %w", handover{}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The handler holds the update until the stop has begun, so
			// only the stop's own confirmation could confirm it.
			release := make(chan struct{})
			h := &fakeHandler{reply: func(commands.Request) []commands.Reply {
				<-release
				return []commands.Reply{{Parts: []commands.Part{{Text: "finished"}}}}
			}}
			hs := start(t, h, nil)
			hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code x")
			waitHandling(t, h)
			stopped := make(chan error, 1)
			go func() { stopped <- hs.stopWith(tt.cause) }()
			time.Sleep(100 * time.Millisecond) // let the stop begin: the poll loop ends first
			polls := len(hs.api.CallsTo("getUpdates"))
			close(release)
			if err := <-stopped; err != nil {
				t.Fatal(err)
			}
			if len(hs.api.CallsTo("sendMessage")) != 1 {
				t.Fatal("the in-flight reply was not sent")
			}
			after := len(hs.api.CallsTo("getUpdates")) - polls
			if tt.confirmed && hs.api.Pending() != 0 {
				t.Error("the handled update was not confirmed at shutdown")
			}
			if !tt.confirmed && after > 0 {
				t.Errorf("%d getUpdates after a handover", after)
			}
			if !tt.confirmed && hs.api.Pending() == 0 {
				t.Error("a handover confirmed the update (it polled once more)")
			}
		})
	}
}

func TestWebhook(t *testing.T) {
	h := &fakeHandler{}
	secret := "s3cret-token_0123456789"
	hs := start(t, h, func(c *telegram.Config) {
		c.Webhook = &telegram.Webhook{Listen: "127.0.0.1:0", URL: "https://bot.example.org/tg/hook", Secret: secret}
	})
	set := hs.wait(0, telegramtest.Method("setWebhook", 0))
	if set.Fields["secret_token"] != secret || set.Fields["url"] != "https://bot.example.org/tg/hook" {
		t.Errorf("setWebhook %v", set.Fields)
	}
	var addr string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if a := hs.bot.WebhookAddr(); a != nil {
			addr = a.String()
			break
		}
	}
	update, _ := json.Marshal(map[string]any{"update_id": 9001, "message": map[string]any{
		"message_id": 5, "date": time.Now().Unix(), "text": "/code x",
		"chat": map[string]any{"id": alice, "type": "private"}, "from": map[string]any{"id": alice, "first_name": "A"}}})
	post := func(method, path, secretHdr string, body []byte) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
		if secretHdr != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretHdr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct {
		name, method, path, secret string
		body                       []byte
		want                       int
	}{
		{"no secret", "POST", "/tg/hook", "", update, 401},
		{"wrong secret", "POST", "/tg/hook", secret + "x", update, 403},
		{"wrong method", "GET", "/tg/hook", secret, nil, 405},
		{"wrong path", "POST", "/other", secret, update, 404},
		{"bad body", "POST", "/tg/hook", secret, []byte("{nope"), 400},
		{"good", "POST", "/tg/hook", secret, update, 200},
		{"duplicate", "POST", "/tg/hook", secret, update, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.method, tt.path, tt.secret, tt.body); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	if n := len(h.requests()); n != 1 {
		t.Errorf("handled %d times, want 1", n)
	}
	// The 200 came after the reply was sent.
	if len(hs.api.CallsTo("sendMessage")) != 1 {
		t.Error("no reply before the webhook answered")
	}
	if len(hs.api.CallsTo("getUpdates")) != 0 {
		t.Error("polled in webhook mode")
	}
}

func TestBadTokenFailsRun(t *testing.T) {
	api := telegramtest.New(token)
	defer api.Close()
	b, err := telegram.New(telegram.Config{Token: "999:wrong", APIURL: api.URL(), Handler: &fakeHandler{}, Outbox: newOutbox(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Run(ctx); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("Run: %v (want an error that does not show the token)", err)
	}
}

// TestNoGoroutineLeak: after Run returns, nothing it started is left
// running, scheduled edits and deletions included.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		return []commands.Reply{{Parts: []commands.Part{{Text: "1", Code: true}}, Sensitive: true,
			CodeValidUntil: time.Now().Add(time.Hour), ExpiresAt: time.Now().Add(2 * time.Hour)}}
	}}
	hs := start(t, h, nil)
	for i := range 20 {
		n := hs.api.NumCalls()
		hs.api.SendText(telegramtest.Private(alice+int64(i%2)), telegramtest.User{ID: alice + int64(i%2)}, "/code")
		hs.wait(n, telegramtest.Method("sendMessage", 0))
	}
	if err := hs.stop(); err != nil {
		t.Fatal(err)
	}
	hs.api.Close()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // goroutines exit asynchronously
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Run returned:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
