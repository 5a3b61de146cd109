package otp

import (
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a backup key. MinSecretChars is 80 bits, what Google and most
// services issue and the least that resists guessing; MaxSecretBytes is far
// above any real key (RFC 6238's SHA512 key is 64 bytes) and only stops
// hostile input from costing memory and HMAC time.
const (
	MinSecretChars = 16
	MaxSecretBytes = 256
	// maxSecretInput bounds what ParseSecret looks at at all: a pasted key
	// with generous spacing and quotes is still far below it.
	maxSecretInput = 4096
	// MaxSecretInput is the longest text ParseSecret reads, for the
	// person's message when a text is longer.
	MaxSecretInput = maxSecretInput
)

// Sentinels for errors.Is on a *SecretError.
var (
	ErrSecretEmpty     = errors.New("backup key is empty")
	ErrSecretNotBase32 = errors.New("backup key has characters or a length no backup key has")
	ErrSecretTooShort  = errors.New("backup key is too short")
	ErrSecretTooLong   = errors.New("backup key is too long")
)

// SecretError says what is wrong with a pasted backup key, in words a
// person can act on. Pos (1-based, counted over the key's own characters:
// quotes, spaces and dashes around and between groups are not counted) and
// Char are set when one character is to blame; Group and GroupPos then say
// where the person sees it.
//
// Reason never quotes the key beyond the one character to blame, so the
// error may be logged; GroupText, a piece of the key, must not be.
type SecretError struct {
	Reason string // person-readable, the whole message, without the word base32
	Pos    int
	Char   rune
	// Group is the 1-based group (run between spaces or dashes) holding
	// Char when the key was typed in more than one group, else 0;
	// GroupPos is Char's 1-based place in that group; GroupText is that
	// group as typed (a piece of the secret: for the person's eyes only).
	Group     int
	GroupPos  int
	GroupText string
	// Len, when the key's length is to blame, is its length in
	// characters (Pad the '=' it ended with): chat replies say it in the
	// person's language instead of quoting Reason.
	Len int
	Pad int
	Err error // one of the ErrSecret* sentinels
}

func (e *SecretError) Error() string { return e.Reason }
func (e *SecretError) Unwrap() error { return e.Err }

// b32 is the form authenticator apps show a key in: RFC 4648 base32 without
// padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSecret returns the key as apps show it: unpadded upper-case base32.
func EncodeSecret(secret []byte) string { return b32.EncodeToString(secret) }

// ParseSecret turns a backup key as people paste it into the raw secret.
// It forgives what copying adds (surrounding whitespace and quotes, spaces,
// tabs, newlines and dashes between groups, lower case, '=' padding that is
// missing or correct) and refuses everything else with a *SecretError that
// names the problem. It never returns a secret together with an error.
func ParseSecret(s string) ([]byte, error) {
	if len(s) > maxSecretInput {
		return nil, &SecretError{
			Reason: fmt.Sprintf("too long to be a backup key (more than %d characters)", maxSecretInput),
			Err:    ErrSecretTooLong,
		}
	}
	if !utf8.ValidString(s) {
		return nil, &SecretError{
			Reason: "the text holds bytes that are not characters (not valid UTF-8)",
			Err:    ErrSecretNotBase32,
		}
	}
	s = trimOuter(s)

	// Collect the key's characters, upper-cased, and the '=' padding.
	var buf [maxSecretInput]byte
	key := buf[:0]
	pad := 0
	pos := 0
	// Where the person sees each character: group number, place in it.
	group, groupPos, groupStart := 1, 0, 0
	sep := false
	for i, r := range s {
		if isSeparator(r) {
			sep = true
			continue
		}
		if sep {
			group, groupPos, groupStart, sep = group+1, 0, i, false
		}
		pos++
		groupPos++
		if r == '=' {
			pad++
			continue
		}
		if pad > 0 {
			// Padding only ever ends a key.
			return nil, located(badChar('=', pos-pad), s, group, groupPos-pad, groupStart)
		}
		switch {
		case r >= 'a' && r <= 'z':
			key = append(key, byte(r-'a'+'A'))
		case r >= 'A' && r <= 'Z', r >= '2' && r <= '7':
			key = append(key, byte(r))
		default:
			return nil, located(badChar(r, pos), s, group, groupPos, groupStart)
		}
	}

	n := len(key)
	switch {
	case n == 0:
		return nil, &SecretError{Reason: "no backup key given", Err: ErrSecretEmpty}
	case n < MinSecretChars:
		return nil, &SecretError{
			Reason: fmt.Sprintf("too short to be a real backup key (%d characters; real ones have at least %d)", n, MinSecretChars),
			Len:    n,
			Err:    ErrSecretTooShort,
		}
	}
	switch n % 8 {
	case 1, 3, 6:
		// base32 cannot end there: a character was lost or added.
		return nil, &SecretError{
			Reason: fmt.Sprintf("no backup key has %d characters, so one is probably missing or extra", n),
			Len:    n,
			Err:    ErrSecretNotBase32,
		}
	}
	if pad > 0 && pad != padFor(n) {
		// Padding records the original length; a mismatch means the key
		// was cut or changed while copying.
		return nil, &SecretError{
			Reason: fmt.Sprintf("%d characters do not fit the %d '=' at the end, so a character is probably missing or extra", n, pad),
			Len:    n,
			Pad:    pad,
			Err:    ErrSecretNotBase32,
		}
	}
	if b32.DecodedLen(n) > MaxSecretBytes {
		return nil, &SecretError{
			Reason: fmt.Sprintf("too long to be a backup key (%d characters; at most %d are accepted)", n, b32.EncodedLen(MaxSecretBytes)),
			Len:    n,
			Err:    ErrSecretTooLong,
		}
	}
	out := make([]byte, b32.DecodedLen(n))
	m, err := b32.Decode(out, key)
	if err != nil {
		// Unreachable after the checks above; kept so a broken secret is
		// never returned should the checks and the decoder ever disagree.
		return nil, &SecretError{Reason: "not a backup key", Err: ErrSecretNotBase32}
	}
	return out[:m], nil
}

// located adds where the person sees the bad character: its group and
// place in it, when the key was typed in groups. s is the trimmed input,
// start the byte offset of the group.
func located(e *SecretError, s string, group, groupPos, start int) *SecretError {
	if group == 1 && !strings.ContainsFunc(s, isSeparator) {
		return e // one group: Pos already says it
	}
	end := strings.IndexFunc(s[start:], isSeparator)
	if end < 0 {
		end = len(s) - start
	}
	e.Group, e.GroupPos, e.GroupText = group, groupPos, s[start:start+end]
	return e
}

// Hint is the letter a mistyped digit most likely stands for ('0' for O,
// '1' for I, '8' for B), or 0.
func Hint(r rune) rune {
	switch r {
	case '0':
		return 'O'
	case '1':
		return 'I'
	case '8':
		return 'B'
	}
	return 0
}

// QuoteRune shows a character the way a person can see it: invisible and
// control characters come out escaped.
func QuoteRune(r rune) string {
	if unicode.IsPrint(r) && !unicode.IsSpace(r) {
		return string(r)
	}
	return fmt.Sprintf("%+q", r)
}

// padFor is the number of '=' that RFC 4648 puts after n base32 characters.
func padFor(n int) int {
	return [8]int{0, 7, 6, 5, 4, 3, 2, 1}[n%8]
}

// badChar explains an invalid character, with a hint for the digits that
// are easily mistaken for letters when a key is copied by hand.
func badChar(r rune, pos int) *SecretError {
	reason := fmt.Sprintf("the character %s at position %d is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)", quoteRune(r), pos)
	switch r {
	case '0':
		reason += "; if it is the letter O, type O"
	case '1':
		reason += "; if it is the letter I, type I"
	case '8':
		reason += "; if it is the letter B, type B"
	case '=':
		reason = fmt.Sprintf("the '=' at position %d is in the middle (it may only pad the end)", pos)
	}
	return &SecretError{Reason: reason, Pos: pos, Char: r, Err: ErrSecretNotBase32}
}

// quoteRune shows a character the way a person can see it; invisible and
// control characters come out escaped, so an error never carries them raw.
func quoteRune(r rune) string {
	if unicode.IsPrint(r) && r != '\'' {
		return "'" + string(r) + "'"
	}
	return fmt.Sprintf("%+q", r)
}

// quotes are the marks people and chat apps put around a pasted key.
const quotes = `'"“”‘’„«»` + "`"

// trimOuter removes whitespace and quotes around the key, in any nesting.
func trimOuter(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return isSeparator(r) || strings.ContainsRune(quotes, r)
	})
}

// isSeparator reports characters that copying puts between groups of a key:
// whitespace of any kind, invisible zero-width marks, and dashes.
func isSeparator(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '−', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}
