package commands_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
)

// classWords is how a rate-limited reply names each class.
var classWords = map[string]string{
	"code": "asking for codes", "secret": "exports and checks", "lock": "lock and unlock attempts",
	"write": "asking for changes", "other": "asking for commands",
}

type seenObserver struct {
	mu   sync.Mutex
	last string
}

func (o *seenObserver) Observe(platform, command string, took time.Duration, failed bool) {
	o.mu.Lock()
	o.last = command
	o.mu.Unlock()
}

// tableRig is a handler whose every rate class allows one message and then
// (practically) none, so a second message shows which class it counted in.
func tableRig(t *testing.T) (*commands.Handler, *seenObserver) {
	t.Helper()
	one := commands.Rate{PerMinute: 0.001, Burst: 1}
	limits := &commands.RateLimits{Code: one, Secret: one, Lock: one, Write: one, Other: one}
	obs := &seenObserver{}
	r := rigWith(t, core.ServiceOptions{UnlockFor: 15 * time.Minute, Argon2: seal.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}},
		commands.Options{RateLimits: limits, Observer: obs})
	return r.h, obs
}

// TestCommandTable sends every name and alias of the table in a private
// chat and in a group, with a secret argument where the command takes one.
func TestCommandTable(t *testing.T) {
	h, obs := tableRig(t)
	ctx := context.Background()
	for _, c := range commands.Commands() {
		example, hasExample := c.Example, c.Example != "" && c.Secret(c.Example)
		if c.Secret("x y") && !hasExample {
			t.Errorf("/%s takes secrets but has no secret example in the table", c.Name)
		}
		if hasExample && !c.Secret(example) {
			t.Errorf("/%s %s: the table does not call this secret", c.Name, example)
		}
		for _, spelling := range append([]string{c.Name}, c.Aliases...) {
			text := "/" + spelling
			if hasExample {
				text += " " + example
			}
			t.Run(spelling, func(t *testing.T) {
				person := "p-" + spelling
				req := withCaps(commands.Request{Person: person, Platform: "telegram", Chat: commands.Private, Text: text})
				first := h.Handle(ctx, req)
				if len(first) == 0 {
					t.Fatal("no reply")
				}
				if got := first[0].DeleteRequest; got != hasExample {
					t.Errorf("private %q: DeleteRequest = %v, want %v (%q)", text, got, hasExample, first[0].PlainText())
				}
				if obs.last != c.Name {
					t.Errorf("counted as %q, want the table name %q", obs.last, c.Name)
				}
				if c.Admin && !strings.Contains(first[0].PlainText(), "Only the bot's admins") {
					t.Errorf("admin-only /%s answered a non-admin: %q", spelling, first[0].PlainText())
				}
				// The second message in the same class is refused with the
				// class's words: the limiter read the table's class.
				second := h.Handle(ctx, req)
				want := classWords[c.RateClass]
				if want == "" || !strings.Contains(second[0].PlainText(), want) {
					t.Errorf("rate class of /%s: %q, want the %q class (%q)", spelling, second[0].PlainText(), c.RateClass, want)
				}
				if second[0].DeleteRequest != hasExample {
					t.Errorf("a rate-limited secret was not deleted: %+v", second[0])
				}

				req.Chat, req.Person = commands.Group, "g-"+spelling
				group := h.Handle(ctx, req)
				if len(group) != 1 || group[0].Sensitive || group[0].To != "" || len(group[0].Buttons) > 0 ||
					!strings.Contains(group[0].PlainText(), "only given in a private chat") {
					t.Errorf("group %q got %+v", text, group)
				}
				if group[0].DeleteRequest != hasExample {
					t.Errorf("group %q: DeleteRequest = %v, want %v", text, group[0].DeleteRequest, hasExample)
				}
			})
		}
	}
}

func TestMenuShowsTappableSpellings(t *testing.T) {
	tappable := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	menu := map[string]bool{}
	for _, m := range commands.Menu() {
		menu[m.Command] = true
	}
	for _, c := range commands.Commands() {
		if !tappable.MatchString(c.MenuName) {
			t.Errorf("/%s has no spelling a Telegram menu accepts (aliases %v)", c.Name, c.Aliases)
		}
		if strings.Contains(c.Name, "-") && !strings.Contains(strings.Join(c.Aliases, " "), strings.ReplaceAll(c.Name, "-", "_")) {
			t.Errorf("/%s has no underscore alias", c.Name)
		}
		if c.Menu && !menu[c.MenuName] {
			t.Errorf("/%s is a menu command, but the menu lacks %q", c.Name, c.MenuName)
		}
	}
	if !menu["recovery_codes"] || menu["recovery-codes"] {
		t.Errorf("menu: %v", menu)
	}
}

// TestUnknownCommands: a mistyped command that looks like it carries a
// secret is deleted, and the answer names the nearest command.
func TestUnknownCommands(t *testing.T) {
	h, obs := tableRig(t)
	tests := []struct {
		text, suggest string
		secret        bool
	}{
		{"/ad binance " + demoKey, "/add", true},
		{"/unlokc correct horse battery", "/unlock", true},
		{"/unlokc hunter22", "/unlock", true},
		{"/recovery_codez binance aaaa-1111", "/recovery_codes", true},
		{"/ad otpauth://totp/X?secret=" + demoKey, "/add", true},
		{"/cehck binance 123456", "/check", true},
		{"/cod binance", "/code", false},
		{"/cod Binance", "/code", false},
		{"/lsit", "/list", false},
		{"/frobnicate", "", false},
		{"/frobnicate binance", "", false},
		{"/xyzzy tok3nABC", "", true},
	}
	for i, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			req := withCaps(commands.Request{Person: "u" + string(rune('a'+i)), Platform: "matrix", Chat: commands.Private, Text: tt.text})
			rep := h.Handle(context.Background(), req)[0]
			if rep.DeleteRequest != tt.secret {
				t.Errorf("DeleteRequest = %v, want %v: %q", rep.DeleteRequest, tt.secret, rep.PlainText())
			}
			msg := rep.PlainText()
			if !strings.HasPrefix(msg, "I don't know /") || strings.Contains(msg, demoKey) || strings.Contains(msg, "horse") {
				t.Errorf("reply %q", msg)
			}
			if tt.suggest != "" && !strings.Contains(msg, "Did you mean "+tt.suggest) {
				t.Errorf("reply %q does not suggest %s", msg, tt.suggest)
			}
			if tt.suggest == "" && strings.Contains(msg, "Did you mean") {
				t.Errorf("reply %q suggests something far away", msg)
			}
			if obs.last != "unknown" {
				t.Errorf("counted as %q", obs.last)
			}
			req.Chat = commands.Group
			if g := h.Handle(context.Background(), req); len(g) != 1 || g[0].DeleteRequest != tt.secret {
				t.Errorf("in a group: %+v", g)
			}
		})
	}
}

func TestMenuFitsPlatforms(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	for _, m := range commands.Menu() {
		if !valid.MatchString(m.Command) || len(m.Description) < 3 || len(m.Description) > 256 {
			t.Errorf("menu item %+v does not fit Telegram's limits", m)
		}
	}
}

// /help fits the person and the platform.
func TestHelpFits(t *testing.T) {
	r := newRig(t)
	help := r.say("/help").PlainText()
	for _, c := range []string{"/code", "/add", "/list", "/export", "/recover", "/check"} {
		if !strings.Contains(help, c+" ") {
			t.Errorf("everyday help lacks %s:\n%s", c, help)
		}
	}
	for _, w := range []string{"screenshot", "button", "tap", "/vault", "/invite"} {
		if strings.Contains(strings.ToLower(help), w) {
			t.Errorf("console help mentions %q:\n%s", w, help)
		}
	}
	if team := r.say("/help team").PlainText(); !strings.Contains(team, "/vault") || strings.Contains(team, "/invite") {
		t.Errorf("/help team for a non-admin:\n%s", team)
	}
	if tg := r.send("telegram", "/help")[0].PlainText(); !strings.Contains(tg, "screenshot") {
		t.Errorf("telegram help does not say screenshots work:\n%s", tg)
	}
}
