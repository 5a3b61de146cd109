package commands_test

import (
	"strings"
	"testing"
)

// TestNamesCannotImpersonate: invisible and bidi characters are dropped
// from labels, and a label that only looks like another (Cyrillic "а" in
// "paypal") is refused on /add and /rename.
func TestNamesCannotImpersonate(t *testing.T) {
	r := newRig(t)
	r.say("/add paypal " + demoKey)
	// U+202E (right-to-left override) and U+200B (zero width space).
	r.say("/add git\u202ehub\u200b GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	for _, l := range r.labels() {
		for _, c := range l {
			if c == '\u202e' || c == '\u200b' {
				t.Fatalf("label %q keeps a format character", l)
			}
		}
	}
	rep := r.say("/add p\u0430ypal KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU") // Cyrillic а
	if txt := rep.PlainText(); !strings.Contains(txt, "looks just like paypal") {
		t.Fatalf("confusable add: %q", txt)
	}
	if got := strings.Join(r.labels(), " "); got != "github paypal" {
		t.Fatalf("labels %q", got)
	}
	rep = r.say("/rename github p\u0430yp\u0430l")
	if txt := rep.PlainText(); !strings.Contains(txt, "looks just like paypal") {
		t.Fatalf("confusable rename: %q", txt)
	}
}
