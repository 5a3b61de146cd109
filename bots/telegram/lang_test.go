package telegram_test

import (
	"html"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/lang"
)

// TestLanguageEndToEnd: a real handler behind the fake Bot API. The
// update's language_code picks the reply language ("ru", and "pt-br" as
// Telegram spells Brazilian Portuguese), the command menu is registered
// per language (two-letter codes only, as Telegram demands), and a
// /language choice wins over the app's.
func TestLanguageEndToEnd(t *testing.T) {
	h, _ := testkit.Handler(t, commands.Options{})
	menus := map[string][]telegram.MenuItem{}
	for _, tag := range lang.All()[1:] {
		code, _, _ := strings.Cut(string(tag), "-")
		for _, m := range commands.MenuIn(tag) {
			menus[code] = append(menus[code], telegram.MenuItem{Command: m.Command, Description: m.Description})
		}
	}
	var menu []telegram.MenuItem
	for _, m := range commands.Menu() {
		menu = append(menu, telegram.MenuItem{Command: m.Command, Description: m.Description})
	}
	var loads atomic.Int32
	hs := start(t, nil, func(c *telegram.Config) {
		c.Handler = directory{h, map[int64]string{alice: "alice", bob: "bob"}}
		c.Menu = menu
		// As serve gives them: built by the adapter, after the first
		// getUpdates is asked for.
		c.LoadMenus = func() map[string][]telegram.MenuItem {
			loads.Add(1)
			return menus
		}
	})
	cat := lang.MustLoad()

	// One setMyCommands for everyone, then one per language.
	want := map[string]string{"": cat.Printer(lang.English).T("cmd.code"), "ru": cat.Printer(lang.Russian).T("cmd.code"),
		"pt": cat.Printer(lang.Portuguese).T("cmd.code"), "uk": cat.Printer(lang.Ukrainian).T("cmd.code")}
	for code, desc := range want {
		c := hs.wait(0, func(c telegramtest.Call) bool {
			return c.Method == "setMyCommands" && c.Fields["language_code"] == code
		})
		if !strings.Contains(c.Fields["commands"], desc) {
			t.Errorf("setMyCommands language_code %q: %s, want %q in it", code, c.Fields["commands"], desc)
		}
	}
	for _, c := range hs.api.CallsTo("setMyCommands") {
		if c.Error != "" {
			t.Errorf("setMyCommands %q refused: %s", c.Fields["language_code"], c.Error)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("LoadMenus called %d times, want once", n)
	}

	ask := func(user telegramtest.User, text string) string {
		t.Helper()
		n := hs.api.NumCalls()
		hs.api.SendText(telegramtest.Private(user.ID), user, text)
		return html.UnescapeString(hs.wait(n, sendTo(user.ID)).Fields["text"])
	}
	ru := telegramtest.User{ID: alice, LanguageCode: "ru"}
	br := telegramtest.User{ID: bob, LanguageCode: "pt-br"}
	for _, tc := range []struct {
		user telegramtest.User
		text string
		tag  lang.Tag
		id   string
	}{
		{ru, "/help", lang.Russian, "help.title_everyday"},
		{br, "/help", lang.Portuguese, "help.title_everyday"},
		{ru, "/code", lang.Russian, "err.no_accounts"},
		{br, "/add binance 123456", lang.Portuguese, "help.title_everyday"},
	} {
		got := ask(tc.user, tc.text)
		if tc.text == "/add binance 123456" {
			// The refusal, in Portuguese, with the code's length as typed.
			want := cat.Printer(tc.tag).T("add.looks_like_code", "Digits", 6)
			if !strings.Contains(got, want) {
				t.Errorf("%s (%s): %q, want %q", tc.text, tc.user.LanguageCode, got, want)
			}
			continue
		}
		if want := cat.Printer(tc.tag).T(tc.id); !strings.Contains(got, want) {
			t.Errorf("%s (%s): %q, want %q in it", tc.text, tc.user.LanguageCode, got, want)
		}
	}
	// The person's own choice wins over the app's language.
	if got, want := ask(ru, "/language de"), cat.Printer(lang.German).T("lang.set", "Language", lang.German.Name()); got != want {
		t.Errorf("/language de: %q, want %q", got, want)
	}
	if got, want := ask(ru, "/code"), cat.Printer(lang.German).T("err.no_accounts"); got != want {
		t.Errorf("/code after /language de: %q, want %q", got, want)
	}
}

// TestAdapterTextsInPersonsLanguage: the adapter's own texts follow the
// update's language_code: a stranger's refusal (message and button press)
// and the file-too-large answer; "pt-br" as Telegram spells it.
func TestAdapterTextsInPersonsLanguage(t *testing.T) {
	hs := start(t, &fakeHandler{}, nil)
	cat := lang.MustLoad()

	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(eve), telegramtest.User{ID: eve, LanguageCode: "de"}, "/code binance")
	if got, want := html.UnescapeString(hs.wait(n, sendTo(eve)).Fields["text"]), cat.Printer(lang.German).T("telegram.refusal", "ID", eve); got != want {
		t.Errorf("refusal in German: %q, want %q", got, want)
	}
	n = hs.api.NumCalls()
	hs.api.PressButton(telegramtest.Private(eve), telegramtest.User{ID: eve, LanguageCode: "ru"}, 1, "/code x")
	if got, want := hs.wait(n, telegramtest.Method("answerCallbackQuery", 0)).Fields["text"], cat.Printer(lang.Russian).T("telegram.refusal_button", "ID", eve); got != want {
		t.Errorf("button refusal in Russian: %q, want %q", got, want)
	}
	n = hs.api.NumCalls()
	hs.api.SendPhoto(telegramtest.Private(alice), telegramtest.User{ID: alice, LanguageCode: "pt-br"}, []byte("x"), "", commands.MaxAttachmentBytes+1)
	want := cat.Printer(lang.Portuguese).T("telegram.too_large", "MB", commands.MaxAttachmentBytes>>20)
	if got := html.UnescapeString(hs.wait(n, sendTo(alice)).Fields["text"]); !strings.Contains(got, want) || strings.Contains(got, "too large") {
		t.Errorf("too large in Portuguese: %q, want %q", got, want)
	}
}

// TestAdapterNoticesInPersonsLanguage: the notices the adapter adds on its
// own (a secret it could not delete, with Telegram's reason, and the text
// a code message becomes once the code expired) are in the language of
// the person's app.
func TestAdapterNoticesInPersonsLanguage(t *testing.T) {
	h := &fakeHandler{reply: func(r commands.Request) []commands.Reply {
		now := time.Now()
		return []commands.Reply{{
			Parts:          []commands.Part{{Text: "github: "}, {Text: "654321", Code: true}},
			CodeValidUntil: now.Add(300 * time.Millisecond),
			Sensitive:      true,
			DeleteRequest:  true,
		}}
	}}
	hs := start(t, h, nil)
	uk := lang.MustLoad().Printer(lang.Ukrainian)
	hs.api.Undeletable(alice)
	n := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice, LanguageCode: "uk"}, "/add github JBSWY3DPEHPK3PXP")
	got := html.UnescapeString(hs.wait(n, sendTo(alice)).Fields["text"])
	want := uk.T("msg.delete_failed", "Reason", uk.T("telegram.delete.too_old"))
	if !strings.Contains(got, want) {
		t.Errorf("delete notice: %q, want %q in it", got, want)
	}
	edit := hs.wait(n, telegramtest.Method("editMessageText", alice))
	if got, want := edit.Fields["text"], uk.T("telegram.expired"); got != want {
		t.Errorf("expired code: %q, want %q", got, want)
	}
}
