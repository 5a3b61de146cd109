package telegram_test

import (
	"strings"
	"testing"

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
