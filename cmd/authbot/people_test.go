package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
)

func TestRateLimitsFromConfig(t *testing.T) {
	tests := []struct {
		name string
		in   config.RateLimits
		want commands.RateLimits
	}{
		{"defaults", config.RateLimits{}, commands.DefaultRateLimits},
		{"off", config.RateLimits{Off: true, Code: &config.Rate{PerMinute: 1, Burst: 1}}, commands.RateLimits{}},
		{"one class raised, one off", config.RateLimits{Code: &config.Rate{PerMinute: 6000, Burst: 500}, Other: &config.Rate{}},
			func() commands.RateLimits {
				l := commands.DefaultRateLimits
				l.Code = commands.Rate{PerMinute: 6000, Burst: 500}
				l.Other = commands.Rate{}
				return l
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rateLimits(tt.in); *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

// TestPeopleWiring: the config's users reach core's people directory:
// admins come from the config, people from the config and from accepted
// invites, and a person's platform ids from both, as the handler tells
// the adapters.
func TestPeopleWiring(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default(t.TempDir())
	cfg.Users = []config.User{{Name: "alice", Telegram: 11, Matrix: "@alice:example.org", Admin: true}, {Name: "carol", Telegram: 33}}
	a, err := openApp(ctx, cfg, newLogger(&bytes.Buffer{}, cfg.Log), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var opts commands.Options
	peopleOptions(cfg, a.names)(&opts)
	if !a.svc.IsAdmin("Alice") || a.svc.IsAdmin("carol") || a.svc.IsAdmin("bob") {
		t.Error("IsAdmin should hold for config admins only")
	}
	isPerson := func(name string) bool {
		ok, err := a.svc.IsPerson(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if isPerson("bob") {
		t.Error("bob is nobody yet")
	}
	tok, _, err := a.svc.CreateInvite(ctx, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.AcceptInvite(ctx, tok, core.Identity{Platform: "telegram", ID: "22"}); err != nil {
		t.Fatal(err)
	}
	if !isPerson("bob") || !isPerson("carol") || isPerson("dave") {
		t.Error("IsPerson should hold for config users and accepted invites")
	}
	for _, tt := range []struct {
		platform, person string
		want             []string
	}{
		{"telegram", "alice", []string{"11"}},
		{"matrix", "alice", []string{"@alice:example.org"}},
		{"telegram", "bob", []string{"22"}},
		{"matrix", "bob", nil},
		{"telegram", "dave", nil},
	} {
		got, err := a.handler.IdentitiesOf(ctx, tt.person, tt.platform)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("IdentitiesOf(%s, %s) = %v, %v; want %v", tt.person, tt.platform, got, err, tt.want)
		}
	}
	for id, want := range map[string]string{"11": "alice", "22": "bob", "33": "carol", "44": ""} {
		if got, err := a.handler.PersonFor(ctx, "telegram", id); err != nil || got != want {
			t.Errorf("PersonFor(telegram %s) = %q, %v; want %q", id, got, err, want)
		}
	}
	// A config user who linked another identity has a runtime record, but
	// /remove must not drop their data: the config file is where they go.
	code, _, err := a.svc.LinkCode(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Link(ctx, code, core.Identity{Platform: "matrix", ID: "@carol:example.org"}); err != nil {
		t.Fatal(err)
	}
	rep := a.handler.Handle(ctx, commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private, Text: "/remove carol"})
	if len(rep) != 1 || len(rep[0].Parts) == 0 || !strings.Contains(rep[0].Parts[0].Text, "config file") {
		t.Errorf("/remove of a config user answered %+v", rep)
	}
	if opts.TelegramBotName() != "" {
		t.Error("no Telegram name before the adapter runs")
	}
	f := func() string { return "authbot_demo_bot" }
	a.names.telegram.Store(&f)
	if opts.TelegramBotName() != "authbot_demo_bot" {
		t.Error("TelegramBotName should follow the adapter")
	}
}
