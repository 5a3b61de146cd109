package commands_test

import (
	"context"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/bots/commands"
)

// as sends text as person in a private console chat and returns all reply
// text joined, plus the replies.
func (r *rig) as(person, text string) (string, []commands.Reply) {
	r.t.Helper()
	platform := r.platform
	if platform == "" {
		platform = "console"
	}
	replies := r.h.Handle(context.Background(), commands.Request{Person: person, Platform: platform, Chat: commands.Private, Text: text})
	if len(replies) == 0 {
		r.t.Fatalf("%s %q: no reply", person, text)
	}
	var b strings.Builder
	for _, rep := range replies {
		b.WriteString(rep.PlainText())
		if rep.File != nil {
			b.Write(rep.File.Data)
			b.WriteString(rep.File.Caption)
		}
		if rep.Image != nil {
			b.WriteString(rep.Image.Caption)
		}
		b.WriteString("\n")
	}
	return b.String(), replies
}

func (r *rig) expect(person, text string, wants ...string) string {
	r.t.Helper()
	out, _ := r.as(person, text)
	for _, w := range wants {
		if !strings.Contains(out, w) {
			r.t.Errorf("%s %q: reply %q lacks %q", person, text, out, w)
		}
	}
	return out
}

// teamSecret is team/aws's secret, different from demoKey.
const teamSecret = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"

func teamRig(t *testing.T) *rig {
	r := cheapRig(t)
	r.expect("alice", "/vault new team", "Made the shared vault team")
	r.expect("alice", "/vault add team bob", "bob is now in team as codes only")
	r.expect("alice", "/vault add team carol manager", "carol is now in team as manager")
	r.expect("alice", "/add team/aws "+teamSecret, "Added team/aws")
	return r
}

func TestVaultCommands(t *testing.T) {
	r := teamRig(t)
	want, _ := totp.GenerateCode(teamSecret, r.clock.t)
	r.expect("bob", "/code team/aws", "team/aws: ", want)
	r.expect("bob", "/code aws", "team/aws: ", want)
	r.expect("bob", "/list", "team/aws")
	r.expect("bob", "/vault list", "team — you: codes only", "alice (admin)", "carol (manager)")
	r.expect("dave", "/code team/aws", `no accounts`)
	r.expect("dave", "/add netflix "+demoKey, "Added netflix")
	r.expect("dave", "/code team/aws", `No account matches "team/aws"`)
	r.expect("dave", "/code aws", `No account matches "aws"`)
	r.expect("dave", "/vault add team dave admin", "You are not in a shared vault called team")
	r.expect("carol", "/vault add team dave", "Only the admins of team")
	r.expect("alice", "/vault add team bob", "already in that vault")
	r.expect("alice", "/vault new TEAM", "taken")
	r.expect("alice", "/vault new a/b", "not usable")
	r.expect("alice", "/vault add team dave boss", "Roles are")
	r.expect("alice", "/vault", "team")
	r.expect("alice", "/vault frobnicate", "Use:")
	r.expect("alice", "/vault remove team bob", "bob is out of team", "new key")
	r.expect("bob", "/code team/aws", `no accounts`)
	r.expect("alice", "/vault remove team alice", "at least one admin")
}

// TestCodesOnlyCannotGetSecretAnyWay tries every command that shows,
// exports, checks or compares a secret as a codes-only member.
func TestCodesOnlyCannotGetSecretAnyWay(t *testing.T) {
	r := teamRig(t)
	raw, _ := base32.StdEncoding.DecodeString(teamSecret)
	forbidden := []string{teamSecret, strings.ToLower(teamSecret), string(raw), "otpauth://"}
	check := func(out string) {
		t.Helper()
		for _, f := range forbidden {
			if strings.Contains(out, f) {
				t.Errorf("a reply to bob carries the secret: %q", out)
			}
		}
	}
	for _, tc := range []struct{ text, want string }{
		{"/export team/aws", "you get codes only"},
		{"/export team/aws yes", "you get codes only"},
		{"/export aws yes", "you get codes only"},
		{"/check team/aws 123456", "you get codes only"},
		{"/recovery-codes team/aws AAAA-BBBB", "you get codes only"},
		{"/recover team/aws used AAAA-BBBB", "you get codes only"},
		{"/rename team/aws mine", "you get codes only"},
		{"/del team/aws yes", "you get codes only"},
		{"/add team/new " + demoKey, "you get codes only"},
	} {
		check(r.expect("bob", tc.text, tc.want))
	}
	// Export all: bob has nothing of his own, and the vault is skipped.
	out, _ := r.as("bob", "/export all")
	check(out)
	out, _ = r.as("bob", "a good long password")
	check(out)
	if !strings.Contains(out, "no accounts") {
		t.Errorf("export all for codes-only bob: %q", out)
	}
	// Storing the same secret himself is not reported as a duplicate of the
	// vault's: that would confirm a guess.
	out = r.expect("bob", "/add mine "+teamSecret, "Added mine")
	if strings.Contains(out, "already") {
		t.Errorf("duplicate across vaults revealed: %q", out)
	}
	// With his own account, export all holds only it.
	r.as("bob", "/export all")
	out, replies := r.as("bob", "a good long password")
	for _, rep := range replies {
		if rep.File != nil && strings.Contains(string(rep.File.Data), "team") {
			t.Errorf("export all holds the vault account")
		}
	}
	_ = out
	// The manager may export.
	r.expect("carol", "/export team/aws yes", teamSecret)
}

func TestAuditCommand(t *testing.T) {
	r := teamRig(t)
	want, _ := totp.GenerateCode(teamSecret, r.clock.t)
	r.expect("bob", "/code team/aws", want)
	out := r.expect("alice", "/audit team", "Recent activity in team", "bob (console) got a code for team/aws", "alice (console) added bob (codes)")
	if strings.Contains(out, want) {
		t.Errorf("/audit shows the code: %q", out)
	}
	r.expect("bob", "/audit team", "Only the admins of team")
	r.expect("dave", "/audit team", "You are not in a shared vault called team")
	r.expect("alice", "/code demo", "No account matches")
	r.expect("alice", "/add demo "+demoKey, "Added demo")
	r.expect("alice", "/code demo", "demo: ")
	r.expect("alice", "/audit", "Your recent activity", "alice (console) got a code for demo")
}

func TestApprovalFlow(t *testing.T) {
	r := teamRig(t)
	want, _ := totp.GenerateCode(teamSecret, r.clock.t)
	r.expect("bob", "/vault approval team on", "Only the admins of team")
	r.expect("alice", "/vault approval team on", "now need an admin's approval")
	r.expect("bob", "/code team/aws", "need an admin's approval", "/code team/aws REASON")
	out, reps := r.as("bob", "/code team/aws deploy hotfix")
	if strings.Contains(out, want) {
		t.Fatalf("code given before approval: %q", out)
	}
	if len(reps) != 2 || reps[0].To != "" || reps[1].To != "alice" || !strings.Contains(reps[1].PlainText(), `bob asks for a code for team/aws: "deploy hotfix"`) {
		t.Fatalf("request replies: %+v", reps)
	}
	approve := reps[1].Buttons[0][1].Data // once
	deny := reps[1].Buttons[0][2].Data
	// Bob cannot approve his own request.
	r.expect("bob", approve, "Only the admins of team")
	out, reps = r.as("alice", approve)
	if len(reps) != 2 || reps[1].To != "bob" || strings.Contains(reps[1].PlainText(), want) || !strings.Contains(out, "Approved") {
		t.Fatalf("approve: %+v", reps)
	}
	// The one-time grant is used by bob's own /code (so the code surely
	// reaches him), and once means once.
	r.expect("bob", reps[1].Buttons[0][0].Data, want)
	r.expect("bob", "/code team/aws", "need an admin's approval")
	r.expect("alice", deny, "no longer open")
	// Deny.
	_, reps = r.as("bob", "/code aws again please")
	id := strings.Fields(reps[1].Buttons[0][2].Data)[1]
	_, reps = r.as("alice", "/deny "+id)
	if len(reps) != 2 || reps[1].To != "bob" || !strings.Contains(reps[1].PlainText(), "did not approve") {
		t.Fatalf("deny: %+v", reps)
	}
	// Approval for a time; the admin never needs one.
	_, reps = r.as("bob", "/code team/aws oncall")
	id = strings.Fields(reps[1].Buttons[0][0].Data)[1]
	r.expect("alice", "/approve "+id+" 10", "for 10 minutes")
	r.expect("bob", "/code team/aws", want)
	r.clock.t = r.clock.t.Add(11 * time.Minute)
	r.expect("bob", "/code team/aws", "need an admin's approval")
	r.expect("alice", "/code team/aws", "team/aws: ")
	r.expect("alice", "/audit team", "requested: deploy hotfix", "approved once", "denied", "approved for 10m0s")
}

// TestAuditReasonCannotForgeEntries: a codes-only member's reason with a
// newline and a fake entry, and terminal escapes, shows in /audit as part
// of one line.
func TestAuditReasonCannotForgeEntries(t *testing.T) {
	r := teamRig(t)
	r.expect("alice", "/vault approval team on", "now need an admin's approval")
	r.as("bob", "/code team/aws deploy\nJan 2 15:04 alice (console) got a code for team/aws\x1b[2J\u202e")
	out := r.expect("alice", "/audit team", "requested: deploy")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Jan 2 15:04 alice") {
			t.Fatalf("forged entry in /audit:\n%s", out)
		}
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Fatalf("escape or bidi character reached /audit: %q", out)
	}
}
