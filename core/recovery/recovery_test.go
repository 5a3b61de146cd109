package recovery

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func loadBase(t testing.TB) *Base {
	t.Helper()
	b, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return b
}

func TestLoadValidates(t *testing.T) {
	b := loadBase(t)
	svcs := b.Services()
	if len(svcs) < 30 {
		t.Errorf("got %d services, want at least 30", len(svcs))
	}
	for _, s := range svcs {
		if len(s.Sources) == 0 {
			t.Errorf("%s: no sources", s.ID)
		}
		if s.NoBackup == nil && s.RecoveryCodes == nil && len(s.OtherFactors) == 0 && s.KeyName == "" {
			t.Errorf("%s: entry holds no fact beyond its name", s.ID)
		}
		for _, l := range append(append([]string{}, s.Notes...), s.Help...) {
			if strings.ContainsAny(l, "*_`") {
				t.Errorf("%s: markdown-like character in %q", s.ID, l)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty", ``},
		{"not yaml", `services: [`},
		{"no services", `services: []`},
		{"missing id", "services:\n  - name: X\n    sources: [s]\n"},
		{"upper-case id", "services:\n  - id: X\n    name: X\n    sources: [s]\n"},
		{"missing name", "services:\n  - id: x\n    sources: [s]\n"},
		{"missing sources", "services:\n  - id: x\n    name: X\n"},
		{"duplicate id", "services:\n  - id: x\n    name: X\n    sources: [s]\n  - id: x\n    name: Y\n    sources: [s]\n"},
		{"alias claimed twice", "services:\n  - id: x\n    name: X\n    aliases: [shared]\n    sources: [s]\n  - id: y\n    name: Y\n    aliases: [shared]\n    sources: [s]\n"},
		{"alias equals other name", "services:\n  - id: x\n    name: X\n    sources: [s]\n  - id: y\n    name: Y\n    aliases: [x.com]\n    sources: [s]\n"},
		{"upper-case alias", "services:\n  - id: x\n    name: X\n    aliases: [Foo]\n    sources: [s]\n"},
		{"punctuation alias", "services:\n  - id: x\n    name: X\n    aliases: [\"..\"]\n    sources: [s]\n"},
		{"codes without name", "services:\n  - id: x\n    name: X\n    recovery_codes: {shape: y}\n    sources: [s]\n"},
		{"no_backup without path", "services:\n  - id: x\n    name: X\n    no_backup: {wait: y}\n    sources: [s]\n"},
		{"key name on not_totp", "services:\n  - id: x\n    name: X\n    not_totp: true\n    key_name: k\n    sources: [s]\n"},
		{"null entry", "services:\n  - null\n"},
		{"too large", "#" + strings.Repeat("x", maxDataSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse: got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	b := loadBase(t)
	tests := []struct {
		name, issuer string
		want         string // "" for not found
	}{
		{"binance", "", "binance"},
		{"Binance", "", "binance"},
		{"BINANCE.COM", "", "binance"},
		{"  binance  ", "", "binance"},
		{"www.binance.com", "", "binance"},
		{"binance.us", "", "binanceus"},
		{"Binance US", "", "binanceus"},
		{"gmail", "", "google"},
		{"alice@gmail.com", "", "google"},
		{"alice@gmail.com", "Google", "google"},
		{"work", "Google", "google"},
		{"Google:alice@example.org", "", "google"},
		{"my github", "GitHub", "github"},
		{"github.com", "", "github"},
		{"Git-Hub", "", "github"},
		{"X (Twitter)", "", "x"},
		{"twitter", "", "x"},
		{"Amazon Web Services", "", "aws"},
		{"aws", "", "aws"},
		{"amazon", "", "amazon"},
		{"iCloud", "", "apple"},
		{"Apple ID", "", "apple"},
		{"hotmail.com", "", "microsoft"},
		{"ProtonMail", "", "proton"},
		{"1Password", "", "onepassword"},
		{"steam", "Steam", "steam"},
		{"kraken", "kraken.com", "kraken"},
		{"unknown issuer falls back to name", "SomeBank", ""},
		{"coinbase", "SomeBank", "coinbase"},
		{"", "", ""},
		{"my bank", "", ""},
		{"binance.evil", "", ""},
		{"@", "", ""},
		{strings.Repeat("a", 10000), "", ""},
		{"\x00\xff\xfe", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"|"+tt.issuer, func(t *testing.T) {
			s, ok := b.Lookup(tt.name, tt.issuer)
			if tt.want == "" {
				if ok {
					t.Fatalf("Lookup found %q, want nothing", s.ID)
				}
				return
			}
			if !ok {
				t.Fatalf("Lookup found nothing, want %q", tt.want)
			}
			if s.ID != tt.want {
				t.Fatalf("Lookup = %q, want %q", s.ID, tt.want)
			}
		})
	}
}

func joined(secs []Section) string { return Text(secs) }

func TestAdviceKnownService(t *testing.T) {
	b := loadBase(t)
	s, ok := b.Lookup("binance", "")
	if !ok {
		t.Fatal("binance not found")
	}
	text := joined(b.Advice(s, State{Name: "binance", HaveKey: true}))
	for _, want := range []string{
		`"backup key"`,
		"does not replace your password",
		"/code binance still works",
		"/export binance",
		"Security verification unavailable",
		"48 hours",
		"clock",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("advice lacks %q:\n%s", want, text)
		}
	}
}

func TestAdviceSections(t *testing.T) {
	b := loadBase(t)
	gh, _ := b.Lookup("github", "")
	tests := []struct {
		name     string
		svc      *Service
		st       State
		contains []string
		absent   []string
	}{
		{
			name:     "no key held",
			svc:      gh,
			st:       State{Name: "gh"},
			contains: []string{"authbot does not hold a key for gh", "recovery codes"},
			absent:   []string{"/export", "still works now"},
		},
		{
			name:     "key held, not confirmed",
			svc:      gh,
			st:       State{Name: "gh", HaveKey: true},
			contains: []string{"Sign in once with a code from /code gh", "/export gh"},
		},
		{
			name:     "key confirmed",
			svc:      gh,
			st:       State{Name: "gh", HaveKey: true, Confirmed: true},
			contains: []string{"has accepted a code"},
			absent:   []string{"Sign in once"},
		},
		{
			name:     "codes counted",
			svc:      gh,
			st:       State{Name: "gh", HasRecoveryCodes: true, RecoveryCodesLeft: 3},
			contains: []string{"3 unused recovery codes left", "apart from the backup key"},
		},
		{
			name:     "one code left",
			svc:      gh,
			st:       State{Name: "gh", HasRecoveryCodes: true, RecoveryCodesLeft: 1},
			contains: []string{"1 unused recovery code left"},
		},
		{
			name:     "codes saved, not counted",
			svc:      gh,
			st:       State{Name: "gh", HasRecoveryCodes: true},
			contains: []string{"you saved recovery codes"},
		},
		{
			name:     "hostile label is cleaned",
			svc:      gh,
			st:       State{Name: "evil\nname\x00\u202e" + strings.Repeat("x", 200), HaveKey: true},
			contains: []string{"/code evil name"},
			absent:   []string{"\n/code evil\n", "\x00", "\u202e"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secs := b.Advice(tt.svc, tt.st)
			if len(secs) != 5 {
				t.Fatalf("got %d sections, want 5", len(secs))
			}
			for _, sec := range secs {
				for _, l := range sec.Lines {
					if strings.Contains(l, "\n") {
						t.Errorf("line holds a line break: %q", l)
					}
				}
			}
			text := joined(secs)
			for _, w := range tt.contains {
				if !strings.Contains(text, w) {
					t.Errorf("advice lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(text, w) {
					t.Errorf("advice has %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestAdviceGenericNamesNoService checks that the answer for an unknown
// service holds no fact taken from any entry of the knowledge base.
func TestAdviceGenericNamesNoService(t *testing.T) {
	b := loadBase(t)
	for _, st := range []State{
		{Name: "mybank"},
		{Name: "mybank", HaveKey: true, Confirmed: true, HasRecoveryCodes: true, RecoveryCodesLeft: 4},
	} {
		text := joined(b.Advice(nil, st))
		lower := strings.ToLower(text)
		for _, s := range b.Services() {
			if strings.Contains(lower, strings.ToLower(s.Name)) {
				t.Errorf("generic advice names %q:\n%s", s.Name, text)
			}
			if s.KeyName != "" && strings.Contains(text, `"`+s.KeyName+`"`) {
				t.Errorf("generic advice quotes %s's key name", s.ID)
			}
			if s.NoBackup != nil && strings.Contains(text, s.NoBackup.Path) {
				t.Errorf("generic advice holds %s's recovery path", s.ID)
			}
		}
		for _, w := range []string{"recovery codes", "clock", "does not replace your password"} {
			if !strings.Contains(text, w) {
				t.Errorf("generic advice lacks %q", w)
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
	text := joined(b.Advice(s, State{Name: "icloud"}))
	for _, w := range []string{"does not use authenticator-app codes", "recovery key", "iforgot.apple.com"} {
		if !strings.Contains(text, w) {
			t.Errorf("apple advice lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "/export") {
		t.Errorf("apple advice offers /export:\n%s", text)
	}
}

func TestGuide(t *testing.T) {
	b := loadBase(t)
	g := b.Guide("alice@gmail.com", "", State{Name: "alice@gmail.com"})
	if g.Service == nil || g.Service.ID != "google" || g.Title != "Recovery guide for Google" {
		t.Errorf("got %+v", g)
	}
	g = b.Guide("mybank", "", State{Name: "mybank"})
	if g.Service != nil || g.Title != "Recovery guide for mybank" || len(g.Sections) != 5 {
		t.Errorf("got %+v", g)
	}
}

func TestAdviceLinesShort(t *testing.T) {
	b := loadBase(t)
	// Chat bubbles stay readable when each line is a sentence or two.
	const max = 320
	for _, s := range append(b.Services(), nil) {
		for _, sec := range b.Advice(s, State{Name: "x", HaveKey: true, HasRecoveryCodes: true, RecoveryCodesLeft: 2}) {
			for _, l := range sec.Lines {
				if len(l) > max {
					id := "generic"
					if s != nil {
						id = s.ID
					}
					t.Errorf("%s: line of %d bytes: %q", id, len(l), l)
				}
			}
		}
	}
}

func TestGolden(t *testing.T) {
	b := loadBase(t)
	cases := []struct {
		file         string
		name, issuer string
		st           State
	}{
		{"binance.golden", "binance", "", State{Name: "binance", HaveKey: true, Confirmed: true}},
		{"github.golden", "gh", "GitHub", State{Name: "gh", HaveKey: true, HasRecoveryCodes: true, RecoveryCodesLeft: 7}},
		{"apple.golden", "icloud", "", State{Name: "icloud"}},
		{"generic.golden", "mybank", "", State{Name: "mybank"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			g := b.Guide(c.name, c.issuer, c.st)
			got := g.Title + "\n\n" + Text(g.Sections)
			path := filepath.Join("testdata", c.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from output; run go test -update and review the diff\ngot:\n%s", path, got)
			}
		})
	}
}

func FuzzLookup(f *testing.F) {
	b := loadBase(f)
	for _, s := range []string{"binance", "alice@gmail.com", "Google:x", "", "@", "www.", ".com"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, name, issuer string) {
		s, ok := b.Lookup(name, issuer)
		if ok != (s != nil) {
			t.Fatalf("ok=%v but service=%v", ok, s)
		}
		_ = b.Advice(s, State{Name: name, HaveKey: true})
	})
}

func BenchmarkLookup(b *testing.B) {
	base := loadBase(b)
	for b.Loop() {
		base.Lookup("alice@gmail.com", "Google")
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
