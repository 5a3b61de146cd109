package telegram_test

import (
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// TestJSONBodies: the hot calls go out as application/json, files stay
// multipart, and what the fake reads of them is what the form carried.
func TestJSONBodies(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		switch r.Text {
		case "/qr":
			return []commands.Reply{{Image: &commands.File{Name: "qr.png", Data: []byte("png"), Caption: "scan <me>"}}}
		case "/add":
			return []commands.Reply{{Parts: []commands.Part{{Text: "Added."}}, DeleteRequest: true}}
		}
		return expiringCode("github <x>")
	}}
	hs := start(t, h, nil)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code")
	sent := hs.wait(n, sendTo(alice))
	if want := "github &lt;x&gt;: <code>654321</code>"; sent.Fields["text"] != want {
		t.Errorf("text %q, want %q", sent.Fields["text"], want)
	}
	if want := `{"inline_keyboard":[[{"text":"Refresh","callback_data":"/code github"}]]}`; sent.Fields["reply_markup"] != want {
		t.Errorf("reply_markup %s, want %s", sent.Fields["reply_markup"], want)
	}
	if sent.Fields["link_preview_options"] != `{"is_disabled":true}` || sent.Fields["parse_mode"] != "HTML" || sent.Fields["chat_id"] != "1001" {
		t.Errorf("fields %v", sent.Fields)
	}
	hs.wait(n, telegramtest.Method("editMessageText", alice))
	hs.wait(n, telegramtest.Method("deleteMessage", alice))
	hs.api.PressButton(telegramtest.Private(alice), telegramtest.User{ID: alice}, sent.MessageID, "/code github")
	hs.wait(n, telegramtest.Method("answerCallbackQuery", 0))
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/add")
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/qr")
	photo := hs.wait(n, telegramtest.Method("sendPhoto", alice))
	if photo.ContentType != "multipart/form-data" || string(photo.Files["photo"].Data) != "png" || photo.Fields["caption"] != "scan &lt;me&gt;" {
		t.Errorf("sendPhoto %s %v %v", photo.ContentType, photo.Fields, photo.Files)
	}
	json := map[string]bool{"sendMessage": true, "editMessageText": true, "deleteMessage": true, "answerCallbackQuery": true, "getUpdates": true}
	seen := map[string]bool{}
	for _, c := range hs.api.Calls()[n:] {
		if json[c.Method] {
			seen[c.Method] = true
			if c.ContentType != "application/json" {
				t.Errorf("%s sent as %q, want application/json", c.Method, c.ContentType)
			}
		}
		if c.Error != "" {
			t.Errorf("%s refused: %s", c.Method, c.Error)
		}
	}
	if len(seen) != len(json) {
		t.Errorf("calls seen %v, want all of %v", seen, json)
	}
}

// TestJSONErrors: Telegram's refusals on the JSON path are told apart as
// the library told them: 429 waits retry_after, 5xx and dropped
// connections are retried, 400 and 403 are not; a refused deletion tells
// the person why.
func TestJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     func(api *telegramtest.Server)
		tries     int           // sendMessage attempts for the first reply
		minGap    time.Duration // between the first two attempts
		delivered bool
	}{
		{"429 waits retry_after", func(api *telegramtest.Server) { api.Fail429("sendMessage", 1, 1) }, 2, time.Second, true},
		{"500 retried", func(api *telegramtest.Server) { api.FailWith("sendMessage", 1, 500, "Internal Server Error") }, 2, 0, true},
		{"dropped connection retried", func(api *telegramtest.Server) { api.Drop("sendMessage", 1) }, 2, 0, true},
		{"400 not retried", func(api *telegramtest.Server) {
			api.FailWith("sendMessage", 1, 400, "Bad Request: can't parse entities")
		}, 1, 0, false},
		{"403 blocked not retried", func(api *telegramtest.Server) {
			api.FailWith("sendMessage", 1, 403, "Forbidden: bot was blocked by the user")
		}, 1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := start(t, &fakeHandler{}, nil)
			hs.wait(0, telegramtest.Method("setMyCommands", 0))
			tc.fault(hs.api)
			n := hs.api.NumCalls()
			hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/one")
			hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/two")
			// One chat's updates are handled in order: once /two is
			// answered, every attempt for /one has been made.
			hs.wait(n, func(c telegramtest.Call) bool {
				return c.Method == "sendMessage" && c.Error == "" && !c.Dropped && c.Fields["text"] == "echo: /two"
			})
			var tries []telegramtest.Call
			ok := false
			for _, c := range hs.api.CallsTo("sendMessage") {
				if c.Fields["text"] == "echo: /one" {
					tries = append(tries, c)
					ok = ok || (c.Error == "" && !c.Dropped)
				}
			}
			if len(tries) != tc.tries || ok != tc.delivered {
				t.Fatalf("%d attempts (delivered %v), want %d (%v)", len(tries), ok, tc.tries, tc.delivered)
			}
			if tc.minGap > 0 && tries[1].At.Sub(tries[0].At) < tc.minGap {
				t.Errorf("retried after %v, before retry_after", tries[1].At.Sub(tries[0].At))
			}
		})
	}
	t.Run("403 on delete tells the person", func(t *testing.T) {
		h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
			return []commands.Reply{{Parts: []commands.Part{{Text: "Added github."}}, DeleteRequest: true}}
		}}
		hs := start(t, h, nil)
		hs.api.FailWith("deleteMessage", 1, 403, "Forbidden: not enough rights")
		n := hs.api.NumCalls()
		hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/add github JBSWY3DPEHPK3PXP")
		c := hs.wait(n, sendTo(alice))
		if !strings.Contains(c.Fields["text"], "does not allow me to delete") {
			t.Errorf("reply %q does not say why the message stayed", c.Fields["text"])
		}
		if got := len(hs.api.CallsTo("deleteMessage")); got != 1 {
			t.Errorf("%d deleteMessage attempts, want 1 (403 is final)", got)
		}
	})
}

// TestConnectionReuse: calls share a few keep-alive connections (answers
// read to the end and closed, refusals too) instead of one connection
// per call.
func TestConnectionReuse(t *testing.T) {
	hs := start(t, &fakeHandler{}, nil)
	// The menu goes out beside the first getUpdates (decorate), on a
	// connection of its own while the poll holds the other: the menu call
	// being seen no longer means that start-up has opened all it opens.
	// After one exchange it has.
	hs.wait(0, telegramtest.Method("setMyCommands", 0))
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/ping")
	hs.wait(n, telegramtest.Method("sendMessage", alice))
	before := hs.api.Conns()
	const rounds = 20
	for i := range rounds {
		if i%5 == 4 {
			hs.api.FailWith("sendMessage", 1, 400, "Bad Request: message is too long")
		}
		n := hs.api.NumCalls()
		hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/ping")
		hs.wait(n, func(c telegramtest.Call) bool { return c.Method == "sendMessage" }) // refused ones too
	}
	// One connection long-polls while another carries the replies.
	if opened := hs.api.Conns() - before; opened > 3 {
		t.Errorf("%d connections opened for %d exchanges, want at most 3 (keep-alive reuse)", opened, rounds)
	}
}
