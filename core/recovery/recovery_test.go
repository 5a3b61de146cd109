package recovery

import (
	"errors"
	"flag"
	"strings"
	"sync"
	"testing"

	"github.com/authbot/authbot/lang"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// loaded is the embedded base, parsed once for all tests: it is read-only.
var loaded = sync.OnceValues(Load)

func loadBase(t testing.TB) *Base {
	t.Helper()
	b, err := loaded()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return b
}

func TestLoadValidates(t *testing.T) {
	b := loadBase(t)
	svcs := b.Services()
	if len(svcs) < minServices {
		t.Errorf("got %d services, want at least %d", len(svcs), minServices)
	}
	for _, s := range svcs {
		if s.NoBackup == nil && s.RecoveryCodes == nil && len(s.OtherFactors) == 0 && len(s.Notes) == 0 {
			t.Errorf("%s: entry holds no fact beyond its name", s.ID)
		}
		for _, f := range allFacts(s) {
			if strings.ContainsAny(f.Text, "*`") {
				t.Errorf("%s: markdown-like character in %q", s.ID, f.Text)
			}
		}
	}
}

// minServices is what issue 14 asks the base to cover.
const minServices = 40

// allFacts lists every text of s that can reach a chat.
func allFacts(s *Service) []Fact {
	var out []Fact
	if s.NotTOTP != nil {
		out = append(out, *s.NotTOTP)
	}
	if s.KeyName != nil {
		out = append(out, *s.KeyName)
	}
	if rc := s.RecoveryCodes; rc != nil {
		out = append(out, Fact{Text: rc.Name, Src: rc.Src}, Fact{Text: rc.Shape, Src: rc.Src})
	}
	out = append(out, s.OtherFactors...)
	if nb := s.NoBackup; nb != nil {
		out = append(out, nb.Path)
		out = append(out, nb.AsksFor...)
		if nb.Wait != nil {
			out = append(out, *nb.Wait)
		}
	}
	out = append(out, s.Notes...)
	return out
}

// TestEveryFactSourcedOnOwnDomain is the data file's rule, checked over
// services.yaml itself (Parse enforces it too; this test says it plainly):
// every fact names a source, and every source is a quoted https page on the
// service's own domains.
func TestEveryFactSourcedOnOwnDomain(t *testing.T) {
	b := loadBase(t)
	for _, s := range b.Services() {
		if len(s.Domains) == 0 {
			t.Errorf("%s: no domains declared", s.ID)
		}
		for id, src := range s.Sources {
			if err := onDomains(src.URL, s.Domains); err != nil {
				t.Errorf("%s: source %s: %v", s.ID, id, err)
			}
			if strings.TrimSpace(src.Quote) == "" {
				t.Errorf("%s: source %s quotes nothing", s.ID, id)
			}
		}
		for _, f := range allFacts(s) {
			if f.Text == "" {
				continue // an optional shape left empty
			}
			ids := strings.Fields(f.Src)
			if len(ids) == 0 {
				t.Errorf("%s: %q has no source", s.ID, f.Text)
			}
			for _, id := range ids {
				if _, ok := s.Sources[id]; !ok {
					t.Errorf("%s: %q names unknown source %q", s.ID, f.Text, id)
				}
			}
		}
		if _, ok := s.Sources[s.Help]; !ok {
			t.Errorf("%s: help %q is not a source", s.ID, s.Help)
		}
	}
}

func TestOnDomains(t *testing.T) {
	doms := []string{"github.com", "docs.github.com", "intercom.help/binance-us"}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://github.com/x", true},
		{"https://docs.github.com/en/a", true},
		{"https://www.github.com/", true},
		{"https://GitHub.com/x", true},
		{"http://github.com/x", false},
		{"https://github.com.evil.example/x", false},
		{"https://evilgithub.com/x", false},
		{"https://user@github.com/x", false},
		{"https://intercom.help/binance-us/en/articles/1", true},
		{"https://intercom.help/binance-usx/en", false},
		{"https://intercom.help/other/en", false},
		{"not a url", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := onDomains(tt.url, doms); (err == nil) != tt.ok {
			t.Errorf("onDomains(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

// okEntry is a minimal valid service; the cases below break one rule each.
const okEntry = `services:
  - id: x
    name: X
    domains: [x.example]
    no_backup:
      path: {text: "Ask X.", src: a}
    help: a
    sources:
      a: {url: "https://help.x.example/lost", title: Lost, quote: "ask us"}
`

func TestParseRejects(t *testing.T) {
	if _, err := Parse([]byte(okEntry)); err != nil {
		t.Fatalf("the valid entry is refused: %v", err)
	}
	tests := []struct {
		name string
		data string
	}{
		{"empty", ``},
		{"not yaml", `services: [`},
		{"no services", `services: []`},
		{"missing id", strings.Replace(okEntry, "id: x", "id: ''", 1)},
		{"upper-case id", strings.Replace(okEntry, "id: x", "id: X", 1)},
		{"missing name", strings.Replace(okEntry, "name: X", "name: ''", 1)},
		{"unknown field", strings.Replace(okEntry, "name: X", "name: X\n    hepl: a", 1)},
		{"duplicate id", okEntry + strings.TrimPrefix(okEntry, "services:\n")},
		{"alias claimed twice", okEntry + strings.Replace(strings.TrimPrefix(okEntry, "services:\n"), "id: x", "id: y\n    aliases: [x]", 1)},
		{"upper-case alias", strings.Replace(okEntry, "name: X", "name: X\n    aliases: [Foo]", 1)},
		{"punctuation alias", strings.Replace(okEntry, "name: X", "name: X\n    aliases: [\"..\"]", 1)},
		{"no domains", strings.Replace(okEntry, "    domains: [x.example]\n", "", 1)},
		{"no sources", okEntry[:strings.Index(okEntry, "    sources:")]},
		{"fact without source", strings.Replace(okEntry, `src: a}`, `src: ""}`, 1)},
		{"fact with unknown source", strings.Replace(okEntry, `src: a}`, `src: b}`, 1)},
		{"source on another domain", strings.Replace(okEntry, "help.x.example", "x-help.example", 1)},
		{"source on a look-alike domain", strings.Replace(okEntry, "help.x.example", "help.x.example.evil", 1)},
		{"source over http", strings.Replace(okEntry, "https://", "http://", 1)},
		{"source without quote", strings.Replace(okEntry, `quote: "ask us"`, `quote: ""`, 1)},
		{"source without title", strings.Replace(okEntry, `title: Lost`, `title: ""`, 1)},
		{"source that backs nothing", okEntry + "      b: {url: \"https://x.example/b\", title: B, quote: q}\n"},
		{"no help page", strings.Replace(okEntry, "    help: a\n", "", 1)},
		{"help is not a source", strings.Replace(okEntry, "help: a", "help: z", 1)},
		{"no_backup without path", strings.Replace(okEntry, `path: {text: "Ask X.", src: a}`, `wait: {text: "w", src: a}`, 1)},
		{"codes without name", strings.Replace(okEntry, "    help: a", "    recovery_codes: {count: 2, src: a}\n    help: a", 1)},
		{"singular name, many codes", strings.Replace(okEntry, "    help: a", "    recovery_codes: {name: backup code, count: 10, src: a}\n    help: a", 1)},
		{"plural name, one code", strings.Replace(okEntry, "    help: a", "    recovery_codes: {name: backup codes, count: 1, src: a}\n    help: a", 1)},
		{"codes without source", strings.Replace(okEntry, "    help: a", "    recovery_codes: {name: backup codes, count: 10}\n    help: a", 1)},
		{"key name on not_totp", strings.Replace(okEntry, "    help: a", "    not_totp: {text: t, src: a}\n    key_name: {text: k, src: a}\n    help: a", 1)},
		{"null entry", "services:\n  - null\n"},
		{"too large", "#" + strings.Repeat("x", maxDataSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse: got %v, want ErrInvalid\n%s", err, tt.data)
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
		{"Amazon Web Services", "", "aws"},
		{"aws", "", "aws"},
		{"amazon", "", "amazon"},
		{"iCloud", "", "apple"},
		{"Apple ID", "", "apple"},
		{"hotmail.com", "", "microsoft"},
		{"ProtonMail", "", "proton"},
		{"1Password", "", "onepassword"},
		{"kraken", "kraken.com", "kraken"},
		{"unknown issuer falls back to name", "SomeBank", ""},
		{"coinbase", "SomeBank", "coinbase"},
		{"Docker Hub", "", "docker"},
		{"jira", "", "atlassian"},
		{"Ubisoft Connect", "", "ubisoft"},
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
		_ = b.Advice(lang.English, s, State{Name: name, HaveKey: true}).Text()
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
