package commands_test

import (
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

func TestAuditCommand(t *testing.T) {
	r := teamRig(t)
	want, _ := totp.GenerateCode(teamSecret, r.clock.Now())
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
