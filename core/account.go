package core

import (
	"strings"
	"time"
	"unicode"

	"github.com/authbot/authbot/core/otp"
)

// Account is one stored 2FA account with its secret. Only core and the
// export path ever hold one; replies to people use Summary.
type Account struct {
	ID            string         `json:"id"`
	Label         string         `json:"label"`  // the name the person types: "binance"
	Issuer        string         `json:"issuer"` // the service: "Binance"
	User          string         `json:"user"`   // the account at the service: "alice@example.com"
	OTP           otp.Params     `json:"otp"`
	Added         time.Time      `json:"added"`
	Confirmed     time.Time      `json:"confirmed,omitzero"` // when /check matched a code from the person's phone
	RecoveryCodes []RecoveryCode `json:"recovery_codes,omitempty"`

	// Vault is the shared vault the account lives in ("" for the
	// person's own); set when read, never stored.
	Vault string `json:"-"`
}

// Name is how the person types the account: "aws" or, in a shared vault,
// "team/aws".
func (a *Account) Name() string { return qualified(a.Vault, a.Label) }

// RecoveryCode is one single-use code the service issued for emergencies.
type RecoveryCode struct {
	Code string    `json:"code"`
	Used time.Time `json:"used,omitzero"`
}

// Summary is what may be shown about an account: never the secret.
type Summary struct {
	ID     string   `json:"id"`
	Label  string   `json:"label"`
	Issuer string   `json:"issuer,omitempty"`
	User   string   `json:"user,omitempty"`
	Kind   otp.Kind `json:"kind"`
	// Confirmed is true once a code from the person's own app matched.
	Confirmed bool `json:"confirmed,omitempty"`
	// RecoveryCodes is how many codes are stored, RecoveryLeft how many are unused.
	RecoveryCodes int `json:"recovery_codes,omitempty"`
	RecoveryLeft  int `json:"recovery_left,omitempty"`
	// Vault is the shared vault the account lives in, "" for the person's own.
	Vault string `json:"vault,omitempty"`
}

// Name is how the person types the account: "aws" or "team/aws".
func (s Summary) Name() string { return qualified(s.Vault, s.Label) }

func qualified(vault, label string) string {
	if vault == "" {
		return label
	}
	return vault + "/" + label
}

func (a *Account) summary() Summary {
	s := Summary{ID: a.ID, Label: a.Label, Issuer: a.Issuer, User: a.User, Kind: a.OTP.Kind,
		Confirmed: !a.Confirmed.IsZero(), RecoveryCodes: len(a.RecoveryCodes), Vault: a.Vault}
	for _, c := range a.RecoveryCodes {
		if c.Used.IsZero() {
			s.RecoveryLeft++
		}
	}
	return s
}

// Key returns the account as an otp.Key, for exports. An account added
// with a bare key has no issuer; its label stands in, so the other app (and
// a later import) shows a name rather than an empty line.
func (a *Account) Key() otp.Key {
	issuer := a.Issuer
	if issuer == "" {
		issuer = a.Label
	}
	return otp.Key{Issuer: issuer, Account: a.User, Params: a.OTP}
}

// MaxLabelLen bounds account names; longer ones are refused.
const MaxLabelLen = 64

// CleanLabel turns what a person typed or what a link carried into a label:
// trimmed, inner whitespace turned into '-', control and format (Cf)
// characters dropped.
// It returns "" when nothing usable is left.
func CleanLabel(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			dash = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar:
			// Format characters (zero-width, bidi overrides such as
			// U+202E) are invisible: they could make one label look
			// like another, or reorder what follows it.
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteRune(r)
	}
	out := b.String()
	for strings.HasPrefix(out, "/") {
		out = out[1:] // a label must never look like a command
	}
	if len([]rune(out)) > MaxLabelLen {
		out = string([]rune(out)[:MaxLabelLen])
	}
	return out
}
