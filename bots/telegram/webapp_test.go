package telegram_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// TestMiniAppButtons: the menu button opens the Mini App, and a reply's
// WebApp button goes out as a web_app button the fake (like Telegram)
// accepts only with an https URL.
func TestMiniAppButtons(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		return []commands.Reply{{
			Parts:   []commands.Part{{Text: "Your codes"}},
			Buttons: [][]commands.Button{{{Label: "Open my codes", WebApp: "https://codes.example.org/"}, {Label: "Not https", WebApp: "http://codes.example.org/"}}},
		}}
	}}
	hs := start(t, h, func(c *telegram.Config) { c.MenuApp = "https://codes.example.org/" })
	mb := hs.wait(0, telegramtest.Method("setChatMenuButton", 0))
	if got := mb.Fields["menu_button"]; !strings.Contains(got, `"type":"web_app"`) || !strings.Contains(got, `"url":"https://codes.example.org/"`) {
		t.Errorf("menu_button %s", got)
	}
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/app")
	c := hs.wait(n, sendTo(alice))
	markup := c.Fields["reply_markup"]
	if !strings.Contains(markup, `"web_app":{"url":"https://codes.example.org/"}`) || strings.Contains(markup, "http://") || strings.Contains(markup, "callback_data") {
		t.Errorf("reply_markup %s", markup)
	}
}

// TestHurryDeletesUsedLink: a reply tagged for an early end (a /web link)
// is deleted as soon as Hurry names its tag, long before it expires.
func TestHurryDeletesUsedLink(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		return []commands.Reply{{
			Parts:     []commands.Part{{Text: "Open your codes: https://codes.example.org/#login=x"}},
			ExpiresAt: time.Now().Add(time.Hour),
			Tag:       "web:abc",
			Sensitive: true,
		}}
	}}
	hs := start(t, h, nil)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/web")
	sent := hs.wait(n, sendTo(alice))
	if err := hs.bot.Hurry(context.Background(), "web:other"); err != nil {
		t.Fatal(err)
	}
	if err := hs.bot.Hurry(context.Background(), "web:abc"); err != nil {
		t.Fatal(err)
	}
	del := hs.wait(n, telegramtest.Method("deleteMessage", alice))
	if del.Fields["message_id"] != fmt.Sprint(sent.MessageID) {
		t.Errorf("deleted %v, want the link's message %d", del.Fields, sent.MessageID)
	}
}
