package commands

import (
	"testing"
	"time"

	"github.com/authbot/authbot/core"
)

// codeReply offers the next code under nextCodeUnder seconds (rounded up),
// and core gives it only under core.NextCodeWithin: that must be longer,
// with room for the moments between the code and the reply.
func TestNextCodeOffered(t *testing.T) {
	if time.Duration(nextCodeUnder)*time.Second >= core.NextCodeWithin {
		t.Fatalf("replies want the next code under %d s, core gives it under %v", nextCodeUnder, core.NextCodeWithin)
	}
}
