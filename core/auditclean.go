package core

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The audit log cannot be forged from a chat. Every field of an event may
// carry something a person typed (a reason, a label, a name), so on the
// way in each is stripped of control and format characters (a newline
// would start a fake entry in /audit; ESC sequences would reach the
// operator's terminal in `authbot audit`; U+202E would reorder the line)
// and bounded; on the way out Printable quotes any field that still holds
// something unusual (entries written before this rule).

// maxAuditField bounds one field of an event.
const maxAuditField = 300

// cleanAuditText drops control and format characters, turns invalid
// UTF-8 into U+FFFD and bounds the length.
func cleanAuditText(s string) string {
	if len(s) <= maxAuditField && isPrintableASCII(s) {
		// Nothing to drop or bound (labels, names, platforms, almost
		// always): no pass of strings.Map over every field of every
		// event written.
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	if len(s) > maxAuditField {
		n := maxAuditField
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// isPrintableASCII reports whether s holds only ' ' to '~'.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// clean is e with every text field cleaned for the log.
func (e Event) clean() Event {
	e.Person = cleanAuditText(e.Person)
	e.Platform = cleanAuditText(e.Platform)
	e.Vault = cleanAuditText(e.Vault)
	e.Account = cleanAuditText(e.Account)
	e.Subject = cleanAuditText(e.Subject)
	e.Detail = cleanAuditText(e.Detail)
	return e
}

// Printable returns e with every text field safe to print on one line of
// a chat message or a terminal: a field holding anything but printable
// characters (or a quote) is written as a Go-quoted string, escapes and
// all. Fields written under the cleaning rule print as they are.
func (e Event) Printable() Event {
	e.Person = printableField(e.Person)
	e.Platform = printableField(e.Platform)
	e.Vault = printableField(e.Vault)
	e.Account = printableField(e.Account)
	e.Subject = printableField(e.Subject)
	e.Detail = printableField(e.Detail)
	return e
}

func printableField(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return r == '"' || !unicode.IsPrint(r) && r != ' ' || unicode.Is(unicode.Cf, r)
	}) {
		return strconv.QuoteToGraphic(s)
	}
	return s
}
