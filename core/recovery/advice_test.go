package recovery

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authbot/authbot/lang"
	"unicode/utf8"
)

// One phone screen: what a person reads minutes after losing a phone must
// fit without scrolling.
const (
	maxLines = 12
	maxChars = 900
)

// longLabel is as long as a person's label for an account gets in practice
// ("alice.work@example.org" is 22); cleanLabel caps labels at 64.
var longLabel = strings.Repeat("w", 32)

// states are the situations every answer is checked in.
var states = []struct {
	name string
	st   State
}{
	{"no key", State{Name: "acct"}},
	{"key", State{Name: "acct", HaveKey: true}},
	{"key checked", State{Name: "acct", HaveKey: true, Confirmed: true}},
	{"key, codes left", State{Name: "acct", HaveKey: true, Confirmed: true, HasRecoveryCodes: true, RecoveryCodesLeft: 3}},
	{"key, codes used up", State{Name: "acct", HaveKey: true, HasRecoveryCodes: true}},
	{"steam key", State{Name: "acct", HaveKey: true, Steam: true}},
	{"long label", State{Name: longLabel}},
	{"long label, key", State{Name: longLabel, HaveKey: true, HasRecoveryCodes: true, RecoveryCodesLeft: 12}},
}

func everyService(b *Base) []*Service { return append(b.Services(), nil) }

func idOf(s *Service) string {
	if s == nil {
		return "generic"
	}
	return s.ID
}

// glitches are template faults seen in earlier answers, or that a
// template could produce: an empty slot, a doubled word, a dangling list.
var glitches = []*regexp.Regexp{
	regexp.MustCompile(`is called the "`),
	regexp.MustCompile(`may ask for[:.]?\s*$`),
	regexp.MustCompile(`may ask for:`),
	regexp.MustCompile(`""|\(\)|\s[,;:]|\s\.(\s|$)|\.\.[^.]|;\s*\.|  `),
	regexp.MustCompile(`%!|<nil>|\{\{|\}\}`),
	regexp.MustCompile(`\b1 (codes|recovery codes|backup codes)\b`),
	regexp.MustCompile(`one-time codes .* more than once`),
}

var sentenceEnd = regexp.MustCompile(`[.?!…]\s+`)

// sentences splits a line into its sentences, on ". " and the line end.
func sentences(l string) []string {
	var out []string
	for _, s := range sentenceEnd.Split(l, -1) {
		if s = strings.TrimSpace(strings.TrimRight(s, ".?!…")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// doubledWord returns a word written twice in a row ("the the"), if any.
func doubledWord(l string) string {
	f := strings.Fields(strings.ToLower(l))
	for i := 1; i < len(f); i++ {
		if f[i] == f[i-1] && strings.Trim(f[i], "•…") != "" {
			return f[i]
		}
	}
	return ""
}

func TestAnswersFitOnePhoneScreen(t *testing.T) {
	b := loadBase(t)
	for _, s := range everyService(b) {
		for _, c := range states {
			t.Run(idOf(s)+"/"+c.name, func(t *testing.T) {
				text := b.Advice(lang.English, s, c.st).Text()
				lines := strings.Split(text, "\n")
				if len(lines) > maxLines {
					t.Errorf("%d lines, want at most %d:\n%s", len(lines), maxLines, text)
				}
				if n := utf8.RuneCountInString(text); n > maxChars {
					t.Errorf("%d characters, want at most %d:\n%s", n, maxChars, text)
				}
				seen := map[string]bool{}
				for _, l := range lines {
					for _, sen := range sentences(l) {
						key := strings.ToLower(strings.TrimPrefix(sen, "• "))
						if seen[key] {
							t.Errorf("sentence repeated: %q\n%s", sen, text)
						}
						seen[key] = true
					}
					if w := doubledWord(l); w != "" {
						t.Errorf("doubled word %q in %q", w, l)
					}
					for _, g := range glitches {
						if g.MatchString(l) {
							t.Errorf("template glitch %v in %q", g, l)
						}
					}
					body := strings.TrimPrefix(l, "• ")
					if l == "" || l == lines[0] || strings.HasPrefix(body, "Official help: https://") {
						continue
					}
					if r, _ := utf8.DecodeLastRuneInString(body); !strings.ContainsRune(".…?", r) {
						t.Errorf("line does not end a sentence: %q", l)
					}
				}
			})
		}
	}
}

func TestDoThisNowComesFirst(t *testing.T) {
	b := loadBase(t)
	for _, s := range everyService(b) {
		g := b.Advice(lang.English, s, State{Name: "acct", HaveKey: true})
		want := "Nothing is lost: /code acct still works; to move it to your new phone, /export acct."
		if s != nil && s.NotTOTP != nil {
			want = s.NoBackup.Path.Text
		}
		if len(g.Now) == 0 || g.Now[0] != want {
			t.Errorf("%s with key: first line %q, want %q", idOf(s), g.Now, want)
		}
		if !strings.HasSuffix(g.Title, ": do this now") {
			t.Errorf("%s: title %q", idOf(s), g.Title)
		}
		g = b.Advice(lang.English, s, State{Name: "acct"})
		if len(g.Now) != 1 {
			t.Errorf("%s without key: %d first steps, want the one official next step", idOf(s), len(g.Now))
			continue
		}
		switch {
		case s == nil:
		case s.NoBackup != nil:
			if g.Now[0] != s.NoBackup.Path.Text {
				t.Errorf("%s without key: first step %q, want the official path", s.ID, g.Now[0])
			}
		case s.RecoveryCodes != nil:
			if !strings.Contains(g.Now[0], s.RecoveryCodes.Name) {
				t.Errorf("%s without key: first step %q, want its %s", s.ID, g.Now[0], s.RecoveryCodes.Name)
			}
		default:
			if g.Help == "" || !strings.Contains(g.Now[0], "help page") {
				t.Errorf("%s without key: first step %q, want its help page", s.ID, g.Now[0])
			}
		}
		if s != nil && !strings.Contains(g.Text(), g.Help) {
			t.Errorf("%s: the help page is not shown", s.ID)
		}
	}
}

// TestRecoveryCodeAdviceOnlyWhereTheServiceHasCodes: people hunt for codes
// a bot tells them to use; for a service that gives none, say nothing.
func TestRecoveryCodeAdviceOnlyWhereTheServiceHasCodes(t *testing.T) {
	b := loadBase(t)
	codeWords := regexp.MustCompile(`(?i)recovery codes?\b|backup codes?\b|/recovery-codes|/recover \S+ used`)
	for _, s := range b.Services() {
		for _, c := range states {
			full := b.Advice(lang.English, s, c.st).Text()
			text := full
			// The service's own sourced words may name its buttons
			// ("Use Recovery Code"); the advice around them may not.
			for _, f := range allFacts(s) {
				if f.Text != "" {
					text = strings.ReplaceAll(text, f.Text, "")
				}
			}
			if s.RecoveryCodes == nil {
				if m := codeWords.FindString(text); m != "" {
					t.Errorf("%s (%s) has no recovery codes, but the answer says %q:\n%s", s.ID, c.name, m, text)
				}
				continue
			}
			if c.st.HaveKey && !c.st.HasRecoveryCodes && s.NotTOTP == nil {
				rc := s.RecoveryCodes
				if !strings.Contains(full, rc.Name) {
					t.Errorf("%s: key held, no codes stored, but no word of its %s:\n%s", s.ID, rc.Name, full)
				}
				if rc.Count > 1 && !strings.Contains(full, fmt.Sprintf("%d %s", rc.Count, rc.Name)) {
					t.Errorf("%s: the count the service gives (%d) is missing:\n%s", s.ID, rc.Count, full)
				}
			}
		}
	}
}

func TestAdviceStates(t *testing.T) {
	b := loadBase(t)
	gh, _ := b.Lookup("github", "")
	bn, _ := b.Lookup("binance", "")
	tests := []struct {
		name     string
		svc      *Service
		st       State
		contains []string
		absent   []string
	}{
		{"no key", gh, State{Name: "gh"},
			[]string{"Use a recovery code or request a reset", "cloud backup or sync", `"setup key"`, "/add gh KEY", "up to three business days", "Beware"},
			[]string{"/export", "Nothing is lost"}},
		{"key, unchecked", gh, State{Name: "gh", HaveKey: true},
			[]string{"/code gh still works", "/export gh", "never checked", "/recovery-codes gh"},
			nil},
		{"key checked", gh, State{Name: "gh", HaveKey: true, Confirmed: true},
			nil, []string{"never checked"}},
		{"codes counted", gh, State{Name: "gh", HaveKey: true, HasRecoveryCodes: true, RecoveryCodesLeft: 3},
			[]string{"Recovery codes stored here, unused: 3", "/recover gh used CODE"}, []string{"/recovery-codes"}},
		{"codes used up", gh, State{Name: "gh", HaveKey: true, HasRecoveryCodes: true},
			[]string{"unused: none", "Make new ones at GitHub"}, nil},
		{"exchange without codes", bn, State{Name: "binance"},
			[]string{"Security verification unavailable?", "48 hours", "security questions"},
			[]string{"recovery code", "backup code"}},
		{"steam key", nil, State{Name: "steam", HaveKey: true, Steam: true},
			[]string{"Steam Guard", "Google Authenticator makes wrong ones"}, []string{"new key"}},
		{"hostile label is cleaned", gh, State{Name: "evil\nname\x00\u202e" + strings.Repeat("x", 200), HaveKey: true},
			[]string{"/code evil name"}, []string{"\x00", "\u202e", "/code evil\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := b.Advice(lang.English, tt.svc, tt.st).Text()
			for _, w := range tt.contains {
				if !strings.Contains(text, w) {
					t.Errorf("answer lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(text, w) {
					t.Errorf("answer has %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestGenericAnswer: the answer for a service not in the base must be true
// of every service, so it names none and promises no reset.
func TestGenericAnswer(t *testing.T) {
	b := loadBase(t)
	for _, st := range []State{{Name: "mybank"}, {Name: "mybank", HaveKey: true, Confirmed: true}} {
		text := b.Advice(lang.English, nil, st).Text()
		for _, s := range b.Services() {
			if regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(s.Name) + `\b`).MatchString(text) {
				t.Errorf("generic answer names %q:\n%s", s.Name, text)
			}
			if s.NoBackup != nil && strings.Contains(text, s.NoBackup.Path.Text) {
				t.Errorf("generic answer holds %s's recovery path", s.ID)
			}
		}
		for _, w := range []string{"identity checks", "waiting period", "Expect"} {
			if strings.Contains(text, w) {
				t.Errorf("generic answer promises %q, untrue where a service cannot reset 2FA:\n%s", w, text)
			}
		}
		if st.HaveKey {
			continue
		}
		for _, w := range []string{"cannot reset two-step login at all", "cloud backup or sync", "Beware of anyone"} {
			if !strings.Contains(text, w) {
				t.Errorf("generic answer lacks %q:\n%s", w, text)
			}
		}
	}
}

func TestAdviceNotTOTP(t *testing.T) {
	b := loadBase(t)
	s, ok := b.Lookup("icloud", "")
	if !ok {
		t.Fatal("apple not found")
	}
	text := b.Advice(lang.English, s, State{Name: "icloud"}).Text()
	for _, w := range []string{"trusted device", "iforgot.apple.com", "recovery key", "authbot cannot hold a key"} {
		if !strings.Contains(text, w) {
			t.Errorf("apple answer lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "/export") || strings.Contains(text, "/add") {
		t.Errorf("apple answer offers a key:\n%s", text)
	}
	// The audit found "start account recovery" told to everyone although a
	// recovery key turns account recovery off: it must be conditional.
	if !strings.Contains(text, "Without a recovery key turned on, start account recovery") {
		t.Errorf("apple answer does not make account recovery conditional:\n%s", text)
	}
}

func TestGuideLookup(t *testing.T) {
	b := loadBase(t)
	g := b.Guide(lang.English, "alice@gmail.com", "", State{Name: "alice@gmail.com"})
	if g.Service == nil || g.Service.ID != "google" || g.Title != "Google: do this now" {
		t.Errorf("got %+v", g)
	}
	g = b.Guide(lang.English, "mybank", "", State{Name: "mybank"})
	if g.Service != nil || g.Title != "mybank: do this now" || g.Help != "" {
		t.Errorf("got %+v", g)
	}
}

// TestGolden keeps a transcript of every answer, with the key stored and
// without, under testdata/golden: a change to any answer shows in review.
// go test ./core/recovery -update rewrites them.
func TestGolden(t *testing.T) {
	b := loadBase(t)
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, s := range everyService(b) {
		id := idOf(s)
		label := id
		if s == nil {
			label = "mybank"
		}
		var sb strings.Builder
		for i, c := range []struct {
			note string
			st   State
		}{
			{"key stored here, never checked", State{Name: label, HaveKey: true}},
			{"no key stored here", State{Name: label}},
		} {
			if i > 0 {
				sb.WriteString("\n\n")
			}
			fmt.Fprintf(&sb, "> /recover %s    (%s)\n%s\n", label, c.note, b.Guide(lang.English, label, "", c.st).Text())
		}
		name := id + ".txt"
		want[name] = true
		path := filepath.Join(dir, name)
		got := sb.String()
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run go test ./core/recovery -update to create it)", err)
			continue
		}
		if got != string(old) {
			t.Errorf("%s differs from the answer; run go test ./core/recovery -update and review the diff\ngot:\n%s", path, got)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("%s is the transcript of no service; run -update to remove it", e.Name())
		}
	}
}

func BenchmarkGuideText(b *testing.B) {
	base := loadBase(b)
	st := State{Name: "github", HaveKey: true, HasRecoveryCodes: true, RecoveryCodesLeft: 3}
	for b.Loop() {
		_ = base.Guide(lang.English, "github", "GitHub", st).Text()
	}
}
