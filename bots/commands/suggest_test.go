package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
)

// Suggestions come from the asking person's own names only.
func TestSuggestionsNeverShowOthersNames(t *testing.T) {
	r := newRig(t)
	bob := func(text string) []commands.Reply {
		return r.h.Handle(context.Background(), withCaps(commands.Request{Person: "bob", Platform: "console", Chat: commands.Private, Text: text}))
	}
	bob("/add binance " + demoKey)
	r.say("/add gitlab KRSXG5CTMVRXEZLUKRSXG5CT")
	for _, text := range []string{"/code binanse", "binance", "code binanse", "/cod binanse"} {
		if got := r.say(text).PlainText(); strings.Contains(got, "binance") {
			t.Errorf("%s: alice sees bob's name: %q", text, got)
		}
		if got := bob(text)[0].PlainText(); !strings.Contains(got, "/code binance") {
			t.Errorf("%s: bob gets no suggestion: %q", text, got)
		}
	}
}
