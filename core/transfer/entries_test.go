package transfer

import (
	"encoding/json"
	"testing"

	"github.com/authbot/authbot/core/otp"
)

func TestParseKind(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want otp.Kind
		ok   bool
	}{
		{"", otp.TOTP, true},
		{"totp", otp.TOTP, true},
		{"HOTP", otp.HOTP, true},
		{"Steam", otp.Steam, true},
		{"motp", "", false},
		{"YANDEX", "", false},
		{"totp ", "", false},
	} {
		if got, ok := parseKind(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("parseKind(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestEachEntrySkipsOnlyTheBrokenOne: a wrong-shaped entry is recorded
// under its number and the loop goes on.
func TestEachEntrySkipsOnlyTheBrokenOne(t *testing.T) {
	t.Parallel()
	type entry struct{ Name string }
	list := []json.RawMessage{json.RawMessage(`{"Name":"a"}`), json.RawMessage(`{"Name":7}`), json.RawMessage(`{"Name":"c"}`)}
	c := newCollector("test")
	var seen []string
	eachEntry(c, list, func(n int, e *entry) { seen = append(seen, e.Name) })
	if len(seen) != 2 || seen[0] != "a" || seen[1] != "c" {
		t.Errorf("entries handed on: %q", seen)
	}
	if bad := c.result().Bad; len(bad) != 1 || bad[0].Entry != "entry 2" {
		t.Errorf("bad = %+v, want entry 2 only", bad)
	}
}
