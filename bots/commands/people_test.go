package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core"
)

func peopleRig(t *testing.T) *rig {
	t.Helper()
	// The config's people: alice (an admin) and carol.
	return rigWith(t, core.ServiceOptions{Users: []core.ConfigUser{{Name: "alice", Admin: true}, {Name: "carol"}}},
		commands.Options{RateLimits: &commands.RateLimits{}, TelegramBot: "authbot_demo_bot"})
}

func TestInviteJoinLinkRemove(t *testing.T) {
	r := peopleRig(t)
	ctx := context.Background()
	r.expect("carol", "/invite bob", "Only the bot's admins")
	r.expect("alice", "/invite carol", "already has that name")
	r.expect("alice", "/invite local", "reserved")
	_, reps := r.as("alice", "/invite bob")
	text := reps[0].PlainText()
	if !strings.Contains(text, "https://t.me/authbot_demo_bot?start=") || !reps[0].Sensitive || reps[0].ExpiresAt.IsZero() {
		t.Fatalf("invite: %+v", reps[0])
	}
	token := strings.TrimPrefix(reps[0].Parts[1].Text, "!join ") // the Matrix form: Element intercepts /join
	// Strangers: only private /start, /join, /link do anything.
	if p, reps := r.h.HandleStranger(ctx, "telegram", "555", commands.Group, "", "/start "+token); p != "" || reps != nil {
		t.Errorf("group join: %q %+v", p, reps)
	}
	if p, reps := r.h.HandleStranger(ctx, "telegram", "555", commands.Private, "", "/code x"); p != "" || reps != nil {
		t.Errorf("stranger command: %q %+v", p, reps)
	}
	p, reps := r.h.HandleStranger(ctx, "telegram", "555", commands.Private, "", "/start "+token)
	if p != "bob" || !strings.Contains(reps[0].PlainText(), "Welcome, bob!") {
		t.Fatalf("join: %q %+v", p, reps)
	}
	if p, reps := r.h.HandleStranger(ctx, "matrix", "@eve:x", commands.Private, "", "!join "+token); p != "" || !strings.Contains(reps[0].PlainText(), "used or expired") {
		t.Errorf("second use of the invite: %q %+v", p, reps)
	}
	// A stranger hears the language their app reports (issue 18): the
	// refusal of a used invite in Russian, a welcome in Portuguese below.
	if _, reps := r.h.HandleStranger(ctx, "telegram", "556", commands.Private, "ru", "/start "+token); len(reps) == 0 || !strings.Contains(reps[0].PlainText(), "Это приглашение неизвестно, уже использовано или истекло") {
		t.Errorf("used invite, ru: %+v", reps)
	}
	if got, _ := r.h.PersonFor(ctx, "telegram", "555"); got != "bob" {
		t.Errorf("PersonFor = %q", got)
	}
	// Bob links his Matrix account.
	r.expect("bob", "/add mine "+demoKey, "Added mine")
	_, reps = r.as("bob", "/link")
	code := strings.TrimPrefix(reps[0].Parts[1].Text, "/link ")
	if p, _ := r.h.HandleStranger(ctx, "matrix", "@bob:example.org", commands.Private, "", "/link "+code); p != "bob" {
		t.Fatalf("link: %q", p)
	}
	if got, _ := r.h.PersonFor(ctx, "matrix", "@bob:example.org"); got != "bob" {
		t.Errorf("linked PersonFor = %q", got)
	}
	if _, reps := r.h.HandleStranger(ctx, "matrix", "@x:y", commands.Private, "", "/link "+code); !strings.Contains(reps[0].PlainText(), "used or expired") {
		t.Errorf("link code reused: %+v", reps)
	}
	r.expect("alice", "/people", "bob — telegram, matrix, invited by alice")
	// Runtime people can join vaults.
	r.expect("alice", "/vault new fam", "Made")
	r.expect("alice", "/vault add fam bob", "bob is now in fam")
	r.expect("alice", "/remove bob", "still in shared vaults")
	r.expect("alice", "/vault remove fam bob", "bob is out of fam")
	r.expect("carol", "/remove bob", "Only the bot's admins")
	r.expect("alice", "/remove carol", "carol is in the config file: remove them there")
	r.expect("alice", "/remove zed", "Nobody by that name was added with /invite. People in the config file are removed there")
	r.expect("alice", "/remove bob", "Removed bob")
	if got, _ := r.h.PersonFor(ctx, "telegram", "555"); got != "" {
		t.Errorf("removed bob still maps: %q", got)
	}
	if list, err := r.svc.List(ctx, "bob"); err != nil || len(list) != 0 {
		t.Errorf("removed bob's accounts: %v %v", list, err)
	}
	_, reps = r.as("alice", "/invite erin")
	token = strings.TrimPrefix(reps[0].Parts[1].Text, "!join ")
	p, reps = r.h.HandleStranger(ctx, "telegram", "557", commands.Private, "pt-br", "/start "+token)
	if p != "erin" || len(reps) == 0 || !strings.Contains(reps[0].PlainText(), "Boas-vindas, erin!") || !strings.Contains(reps[0].PlainText(), "O que eu faço no dia a dia:") {
		t.Errorf("join, pt-br: %q %+v", p, reps)
	}
	// An expired invite.
	_, reps = r.as("alice", "/invite dave")
	token = strings.TrimPrefix(reps[0].Parts[1].Text, "/join ")
	r.clock.Advance(core.InviteTTL)
	if p, _ := r.h.HandleStranger(ctx, "matrix", "@dave:x", commands.Private, "", "/join "+token); p != "" {
		t.Errorf("expired invite accepted")
	}
}
