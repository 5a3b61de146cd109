package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
)

// cheapRig is newRig with cheap Argon2 costs, so lock tests stay fast, and
// without rate limits (ratelimit_test.go tests those).
func cheapRig(t *testing.T) *rig {
	return limitedRig(t, &commands.RateLimits{})
}

func limitedRig(t *testing.T, limits *commands.RateLimits) *rig {
	t.Helper()
	return rigWith(t, core.ServiceOptions{UnlockFor: 15 * time.Minute, Argon2: seal.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}, Users: rigPeople()},
		commands.Options{RateLimits: limits})
}

func TestLockCommands(t *testing.T) {
	r := cheapRig(t)
	r.expect("alice", "/add github "+demoKey, "Added github")
	r.expect("alice", "/lock", "no passphrase set")
	_, reps := r.as("alice", "/lock short")
	if !reps[0].DeleteRequest || !strings.Contains(reps[0].PlainText(), "too short") {
		t.Errorf("/lock short: %+v", reps[0])
	}
	_, reps = r.as("alice", "/lock correct horse battery")
	if !reps[0].DeleteRequest || !strings.Contains(reps[0].PlainText(), "Locked with your passphrase") {
		t.Errorf("/lock: %+v", reps[0])
	}
	r.expect("alice", "/code github", "locked with your passphrase", "/unlock")
	r.expect("alice", "/list", "locked")
	for i := 0; i < 2; i++ {
		r.expect("alice", "/unlock wrong one", "That passphrase is wrong. Check it")
	}
	r.expect("alice", "/unlock wrong one", "After 3 wrong tries, wait 8 seconds")
	r.expect("alice", "/unlock correct horse battery", "Too many wrong passphrases: wait 8 seconds")
	r.clock.Advance(8 * time.Second)
	_, reps = r.as("alice", "/unlock correct horse battery")
	if !reps[0].DeleteRequest || !strings.Contains(reps[0].PlainText(), "Unlocked for 15 minutes") {
		t.Errorf("/unlock: %+v", reps[0])
	}
	r.expect("alice", "/code github", "github: ")
	r.expect("alice", "/lock", "Locked.")
	r.expect("alice", "/code github", "locked")
	r.expect("alice", "/unlock correct horse battery", "Unlocked")
	r.expect("alice", "/lock off", "removed")
	r.clock.Advance(time.Hour)
	r.expect("alice", "/code github", "github: ")
	// In a group the passphrase message is deleted and nothing is done.
	reps = r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Group, Text: "/lock my secret passphrase"}))
	if len(reps) != 1 || !reps[0].DeleteRequest {
		t.Errorf("group /lock: %+v", reps)
	}
	r.expect("alice", "/code github", "github: ")
}
