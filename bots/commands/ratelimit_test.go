package commands_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
)

func TestRateLimits(t *testing.T) {
	r := limitedRig(t, &commands.DefaultRateLimits)
	r.platform = "telegram"
	r.expect("alice", "/add github "+demoKey, "Added github")
	// The burst of codes, then a clear refusal with the wait.
	for i := 0; i < int(commands.DefaultRateLimits.Code.Burst); i++ {
		r.expect("alice", "/code github", "github: ")
	}
	r.expect("alice", "/code github", "You are asking for codes faster than I allow. Please wait 2 seconds")
	// Other people and other classes are not affected.
	r.expect("bob", "/add x "+demoKey, "Added x")
	r.expect("bob", "/code x", "x: ")
	r.expect("alice", "/list", "github")
	// The bucket refills with the clock: 30 a minute is one per 2 s.
	r.clock.Advance(2 * time.Second)
	r.expect("alice", "/code github", "github: ")
	r.expect("alice", "/code github", "faster than I allow")
	r.clock.Advance(time.Minute)
	for i := 0; i < 20; i++ {
		r.expect("alice", "/code github", "github: ")
	}
	// A refused message that carries a secret is still deleted.
	for i := 0; i < int(commands.DefaultRateLimits.Lock.Burst); i++ {
		r.as("alice", fmt.Sprintf("/unlock guess %d", i))
	}
	_, reps := r.as("alice", "/unlock my passphrase")
	if !reps[0].DeleteRequest {
		t.Errorf("rate-limited /unlock not deleted: %+v", reps[0])
	}
	r.expect("alice", "/unlock again", "lock and unlock attempts faster than I allow")
}

// The console's local person is never refused: scripts run to the end.
func TestConsoleIsNotRateLimited(t *testing.T) {
	r := limitedRig(t, &commands.DefaultRateLimits)
	r.expect("local", "/add github "+demoKey, "Added github")
	for i := 0; i < 3*int(commands.DefaultRateLimits.Code.Burst); i++ {
		r.expect("local", "/code github", "github: ")
	}
}
