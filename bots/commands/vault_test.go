package commands_test

import (
	"encoding/base32"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

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
	want, _ := totp.GenerateCode(teamSecret, r.clock.Now())
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
