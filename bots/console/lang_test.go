package console_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/lang"
)

// everyPath is a conversation that walks the success and error paths of
// the commands (asking, refusing, storing, confirming, listing), so that
// TestNoEnglishLeft sees what a person of each language would read.
const everyPath = `> /start
> /help
> /help team
> /help more
> /help nope
> /code
> /list
> /add
> /cancel
> /cancel
> /add binance 123456
> /add binance JBSW Y3DP EHPK 3PX8
> /add kraken https://www.kraken.com/u/security/2fa
> /add binance JBSW
> /add binance JBSWY3DPEHPK3
> /add JBSWY3DPEHPK3PXP
> /add binance JBSWY3DPEHPK3PXP
> /add binance JBSWY3DPEHPK3PXP
> /add bybit GEZDGNBVGY3TQOJQ
> /code binance
> /code
> /code binanse
> /code b
> /rename binance
> /rename binance binance main
> /rename binance bybit
> /rename binance binance-main
> /del
> /del bybit
> no
> /del bybit
> maybe
> yes
> /check binance-main
> /check binance-main abc
> /check binance-main 000000
> /recovery-codes binance-main
> /recovery-codes binance-main aaaa-1111 bbbb-2222
> /recover binance-main used zzzz-9999
> /recover binance-main used aaaa-1111
> /recover
> /export binance-main
> no
> /export
> short
> /cancel
> /lock short
> /unlock
> /lock off
> /vault
> /vault list
> /vault new team
> /vault list
> /vault add team nobody
> /audit
> /people
> /invite bob
> /link
> /web
> /app
> /approve
> /approve x forever
> /deny
> /language
> /language xx
> /cod binance
> hello
> yes
> JBSWY3DPEHPK3PXP`

// TestNoEnglishLeft runs every path above in each language and fails when
// a reply holds a sentence of the English catalogue that the language's
// own translation of that message does not also contain (so a service's
// own label, kept in English on purpose, does not count). Placeholders
// split a message into its fixed runs; runs of four words and more are
// sought, which is where a forgotten translation shows.
func TestNoEnglishLeft(t *testing.T) {
	cat := lang.MustLoad()
	type run struct{ id, text string }
	var runs []run
	for _, id := range cat.Keys() {
		for _, s := range cat.Forms(lang.English, id) {
			for _, r := range placeholder.Split(s, -1) {
				r = strings.Trim(r, " .,:;()—\n")
				if len(strings.Fields(r)) >= 4 && len(r) >= 20 {
					runs = append(runs, run{id, r})
				}
			}
		}
	}
	for _, tag := range lang.All()[1:] {
		t.Run(string(tag), func(t *testing.T) {
			out := testkit.RunTranscript(t, "every-path-"+string(tag), "> /language "+string(tag)+"\n"+everyPath, testkit.TranscriptOptions{})
			// The commands as typed are not replies.
			var replies []string
			for _, l := range strings.Split(out, "\n") {
				if !strings.HasPrefix(l, "> ") {
					replies = append(replies, l)
				}
			}
			text := strings.Join(replies, "\n")
			for _, l := range replies {
				if n := englishWords(l); n >= 4 {
					t.Errorf("a %s reply line reads as English (%d English function words): %q", tag, n, l)
				}
			}
			for _, r := range runs {
				if !strings.Contains(text, r.text) {
					continue
				}
				own := false
				for _, s := range cat.Forms(tag, r.id) {
					own = own || strings.Contains(s, r.text)
				}
				if !own {
					t.Errorf("a %s reply holds the English of %s: %q", tag, r.id, r.text)
				}
			}
		})
	}
}

var placeholder = regexp.MustCompile(`{{[^}]*}}`)

// englishWords counts the distinct English function words of a line,
// leaving out commands (/add NAME KEY) and the console's own markup: a
// sentence authbot took from somewhere other than the catalogue (an error
// text of core) shows as English this way.
func englishWords(line string) int {
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(line), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '/' || r == '\'')
	}) {
		switch w {
		case "the", "is", "not", "to", "be", "have", "and", "your", "you", "with", "than", "ones", "are", "was", "of":
			seen[w] = true
		}
	}
	return len(seen)
}

// TestStartOnConsoleOffersNoScreenshot: the console takes no pictures, so
// its /start says to paste a link or run authbot import, in every
// language, never to send a screenshot of a QR code.
func TestStartOnConsoleOffersNoScreenshot(t *testing.T) {
	cat := lang.MustLoad()
	for _, tag := range lang.All() {
		out := testkit.RunTranscript(t, "start-"+string(tag), "> /language "+string(tag)+"\n> /start", testkit.TranscriptOptions{})
		p := cat.Printer(tag)
		if chat := p.T("help.paste_chat"); strings.Contains(out, chat) {
			t.Errorf("%s: the console's /start offers a screenshot: %q", tag, chat)
		}
		if want := p.T("help.paste_console"); !strings.Contains(out, want) {
			t.Errorf("%s: the console's /start lacks %q:\n%s", tag, want, out)
		}
	}
}
