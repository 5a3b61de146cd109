package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestApprovalFlow(t *testing.T) {
	r := teamRig(t)
	want, _ := totp.GenerateCode(teamSecret, r.clock.Now())
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
	r.clock.Advance(11 * time.Minute)
	r.expect("bob", "/code team/aws", "need an admin's approval")
	r.expect("alice", "/code team/aws", "team/aws: ")
	r.expect("alice", "/audit team", "requested: deploy hotfix", "approved once", "denied", "approved for 10m0s")
}
