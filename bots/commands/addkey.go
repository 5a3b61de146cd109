package commands

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/lang"
)

// Reading "/add NAME KEY" without storing a wrong key.
//
// Every all-letter word is a valid piece of a backup key, so in
// "/add google work JBSW Y3DP EHPK 3PXP" the word "work" would silently
// become part of the key. readAddKey decides whether the words after the
// name are surely the key, or whether it must ask first.

// keyReading is what readAddKey made of the words after a name.
type keyReading struct {
	label  string // the name, with stray name words joined by '-'
	secret []byte
	// ask: the reading is a guess (a word may belong to the name, or the
	// groups are uneven): confirm before storing.
	ask bool
	err error // the key cannot be read at all (a *otp.SecretError)
	// code: the key is a 6–8 digit number, an app's code rather than a key.
	code int
}

// commonKeyChars are the lengths (in key characters) the services issue:
// 10, 15, 16, 20, 25, 32, 35 and 40 bytes, and RFC 6238's 64.
var commonKeyChars = map[int]bool{16: true, 24: true, 26: true, 32: true, 40: true, 52: true, 56: true, 64: true, 103: true}

// readAddKey reads words (the message after the name) as a key for label.
func readAddKey(label string, words []string) keyReading {
	joined := strings.Join(words, " ")
	if n := digitsOnly(joined); n >= 6 && n <= 8 {
		return keyReading{label: label, code: n}
	}
	whole, err := otp.ParseSecret(joined)
	wholeOK := err == nil && evenGroups(words)
	if wholeOK && (commonKeyChars[keyChars(words)] || !letterWords(words[:1])) {
		return keyReading{label: label, secret: whole}
	}
	// Could leading (or trailing) words be part of the name? Try the
	// fewest stray words that leave an even, common-length key.
	for k := 1; k < len(words); k++ {
		for _, split := range [][2][]string{{words[:k], words[k:]}, {words[len(words)-k:], words[:len(words)-k]}} {
			name, rest := split[0], split[1]
			if !letterWords(name) || !evenGroups(rest) {
				continue
			}
			if !commonKeyChars[keyChars(rest)] && wholeOK {
				continue
			}
			if s, err := otp.ParseSecret(strings.Join(rest, " ")); err == nil {
				return keyReading{label: label + "-" + strings.ToLower(strings.Join(name, "-")), secret: s, ask: true}
			}
		}
	}
	if err != nil {
		return keyReading{label: label, err: err}
	}
	// Readable, but uneven groups or mixed case: ask.
	return keyReading{label: label, secret: whole, ask: !wholeOK}
}

// digitsOnly is the number of digits when s holds nothing but digits
// (and spaces), else 0.
func digitsOnly(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == ' ':
		default:
			return 0
		}
	}
	return n
}

// groups splits words into the key's groups (dashes separate too).
func groups(words []string) []string {
	var out []string
	for _, w := range words {
		for _, g := range strings.FieldsFunc(w, func(r rune) bool { return r == '-' || r == '–' || r == '—' }) {
			if g = strings.Trim(g, quoteMarks); g != "" {
				out = append(out, g)
			}
		}
	}
	return out
}

// evenGroups: every group but the last has the same length, the last is
// no longer, and all letters share one case: how sites print a key.
func evenGroups(words []string) bool {
	g := groups(words)
	if len(g) == 0 {
		return false
	}
	upper, lower := false, false
	for i, x := range g {
		x = strings.TrimRight(x, "=")
		if i < len(g)-1 && len(x) != len(g[0]) || i == len(g)-1 && len(x) > len(g[0]) {
			return false
		}
		for _, r := range x {
			upper = upper || unicode.IsUpper(r)
			lower = lower || unicode.IsLower(r)
		}
	}
	return !(upper && lower)
}

// quoteMarks are what people and chat apps put around a pasted key.
const quoteMarks = `'"“”‘’„«»` + "`"

// letterWords: every word is made of letters only and is not written in
// capitals the way key groups are ("work", "Pro", "AWS"; not "JBSW").
func letterWords(words []string) bool {
	for _, w := range words {
		for _, r := range w {
			if !unicode.IsLetter(r) {
				return false
			}
		}
		if len(w) > 3 && strings.ToUpper(w) == w {
			return false
		}
	}
	return len(words) > 0
}

func keyChars(words []string) int {
	n := 0
	for _, g := range groups(words) {
		n += len(strings.TrimRight(g, "="))
	}
	return n
}

// maskedKey shows a key the way sites print it, in groups of four, with
// only the first and last group readable: enough to compare with the site
// without putting the key in the chat.
func maskedKey(secret []byte) string {
	s := otp.EncodeSecret(secret)
	var g []string
	for len(s) > 4 {
		g = append(g, s[:4])
		s = s[4:]
	}
	g = append(g, s)
	for i := 1; i < len(g)-1; i++ {
		g[i] = "••••"
	}
	return strings.Join(g, " ")
}

// keyCheck is the line after every /add: the key as read, masked.
func keyCheck(p *lang.Printer, secret []byte) string {
	return p.N("add.key_check", len(otp.EncodeSecret(secret)), "Key", maskedKey(secret))
}

// ordinal is 1st, 2nd, 3rd, 4th… for the groups of a key.
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
