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
)

// Sentinels for errors.Is on a *SecretError.
var (
	ErrSecretEmpty     = errors.New("backup key is empty")
	ErrSecretNotBase32 = errors.New("backup key is not base32")
	ErrSecretTooShort  = errors.New("backup key is too short")
	ErrSecretTooLong   = errors.New("backup key is too long")
)

// SecretError says what is wrong with a pasted backup key, in words a
// person can act on. Pos (1-based, counted over the key's own characters:
// quotes, spaces and dashes around and between groups are not counted) and
// Char are set when one character is to blame.
type SecretError struct {
	Reason string // person-readable, the whole message
	Pos    int
	Char   rune
	Err    error // one of the ErrSecret* sentinels
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
			Reason: "not a base32 backup key: the text is not valid UTF-8",
			Err:    ErrSecretNotBase32,
		}
	}
	s = trimOuter(s)

	// Collect the key's characters, upper-cased, and the '=' padding.
	var buf [maxSecretInput]byte
	key := buf[:0]
	pad := 0
	pos := 0
	for _, r := range s {
		if isSeparator(r) {
			continue
		}
		pos++
		if r == '=' {
			pad++
			continue
		}
		if pad > 0 {
			// Padding only ever ends a key.
			return nil, badChar('=', pos-pad)
		}
		switch {
		case r >= 'a' && r <= 'z':
			key = append(key, byte(r-'a'+'A'))
		case r >= 'A' && r <= 'Z', r >= '2' && r <= '7':
			key = append(key, byte(r))
		default:
			return nil, badChar(r, pos)
		}
	}

	n := len(key)
	switch {
	case n == 0:
		return nil, &SecretError{Reason: "no backup key given", Err: ErrSecretEmpty}
	case n < MinSecretChars:
		return nil, &SecretError{
			Reason: fmt.Sprintf("too short to be a real backup key (%d characters; real ones have at least %d)", n, MinSecretChars),
			Err:    ErrSecretTooShort,
		}
	}
	switch n % 8 {
	case 1, 3, 6:
		// base32 cannot end there: a character was lost or added.
		return nil, &SecretError{
			Reason: fmt.Sprintf("not a base32 backup key: no key has %d characters, so one is probably missing or extra", n),
			Err:    ErrSecretNotBase32,
		}
	}
	if pad > 0 && pad != padFor(n) {
		// Padding records the original length; a mismatch means the key
		// was cut or changed while copying.
		return nil, &SecretError{
			Reason: fmt.Sprintf("not a base32 backup key: %d characters do not fit the %d '=' at the end, so a character is probably missing or extra", n, pad),
			Err:    ErrSecretNotBase32,
		}
	}
	if b32.DecodedLen(n) > MaxSecretBytes {
		return nil, &SecretError{
			Reason: fmt.Sprintf("too long to be a backup key (%d characters; at most %d are accepted)", n, b32.EncodedLen(MaxSecretBytes)),
			Err:    ErrSecretTooLong,
		}
	}
	out := make([]byte, b32.DecodedLen(n))
	m, err := b32.Decode(out, key)
	if err != nil {
		// Unreachable after the checks above; kept so a broken secret is
		// never returned should the checks and the decoder ever disagree.
		return nil, &SecretError{Reason: "not a base32 backup key", Err: ErrSecretNotBase32}
	}
	return out[:m], nil
}

// padFor is the number of '=' that RFC 4648 puts after n base32 characters.
func padFor(n int) int {
	return [8]int{0, 7, 6, 5, 4, 3, 2, 1}[n%8]
}

// badChar explains an invalid character, with a hint for the digits that
// are easily mistaken for letters when a key is copied by hand.
func badChar(r rune, pos int) *SecretError {
	reason := fmt.Sprintf("not a base32 backup key: the character %s at position %d is not allowed (backup keys use only A–Z and 2–7)", quoteRune(r), pos)
	switch r {
	case '0':
		reason += "; if it is the letter O, type O"
	case '1':
		reason += "; if it is the letter I, type I"
	case '8':
		reason += "; if it is the letter B, type B"
	case '=':
		reason = fmt.Sprintf("not a base32 backup key: the '=' at position %d is in the middle (it may only pad the end)", pos)
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
