package main

import (
	"context"
	"testing"

	"github.com/authbot/authbot/bots/commands"
)

// TestReachersCrossPlatforms: a reply for a person not on Matrix is
// offered to the Telegram adapter (and never back to Matrix itself).
func TestReachersCrossPlatforms(t *testing.T) {
	var rs reachers
	var got []string
	rs.add("telegram", func(_ context.Context, r commands.Reply) bool {
		got = append(got, "telegram:"+r.To)
		return r.To == "alice"
	})
	rs.add("matrix", func(_ context.Context, r commands.Reply) bool { got = append(got, "matrix:"+r.To); return false })
	fromMatrix := rs.from("matrix")
	if !fromMatrix(context.Background(), commands.Reply{To: "alice"}) {
		t.Fatal("alice (on Telegram) not reached from Matrix")
	}
	if fromMatrix(context.Background(), commands.Reply{To: "zoe"}) {
		t.Fatal("zoe is nowhere, yet reached")
	}
	if len(got) != 2 || got[0] != "telegram:alice" || got[1] != "telegram:zoe" {
		t.Fatalf("calls %v", got)
	}
}
