package otp

import (
	"errors"
	"fmt"
	"strings"
)

// Defaults and bounds of the parameters. MaxPeriod is generous (real
// services use 30 or 60 s); it exists so a hostile link cannot make a code
// "valid" for years.
const (
	DefaultDigits = 6
	DefaultPeriod = 30
	SteamDigits   = 5
	MinDigits     = 6
	MaxDigits     = 8
	MaxPeriod     = 3600
)

// ErrInvalidParams is wrapped by every *ParamsError.
var ErrInvalidParams = errors.New("invalid one-time password parameters")

// ParamsError names the parameter that is wrong and why, in words a person
// can read.
type ParamsError struct {
	Field  string // kind, secret, algorithm, digits or period
	Reason string
}

func (e *ParamsError) Error() string { return e.Reason }
func (e *ParamsError) Unwrap() error { return ErrInvalidParams }

// Default returns the parameters every authenticator app assumes when a
// service says nothing else: SHA1, 6 digits, 30 s (Steam: 5 characters,
// 30 s; HOTP: counter 0). The secret is left empty.
func Default(k Kind) Params {
	p := Params{Kind: k, Algorithm: SHA1, Digits: DefaultDigits, Period: DefaultPeriod}
	switch k {
	case HOTP:
		p.Period = 0
	case Steam:
		p.Digits = SteamDigits
	}
	return p
}

// Validate checks that codes can be computed from p: a known kind, a
// non-empty secret of at most MaxSecretBytes, SHA1/SHA256/SHA512 (Steam:
// SHA1), 6–8 digits (Steam: 5) and, for TOTP and Steam, a period of
// 1..MaxPeriod seconds. It does not insist on the 80-bit minimum that
// ParseSecret applies to typed keys: an import may carry an old short key
// that still works. The error is a *ParamsError.
func (p Params) Validate() error {
	switch p.Kind {
	case TOTP, HOTP, Steam:
	default:
		return &ParamsError{Field: "kind", Reason: fmt.Sprintf("unknown kind of one-time password %q (expected totp, hotp or steam)", clip(string(p.Kind)))}
	}
	switch {
	case len(p.Secret) == 0:
		return &ParamsError{Field: "secret", Reason: "the secret is empty"}
	case len(p.Secret) > MaxSecretBytes:
		return &ParamsError{Field: "secret", Reason: fmt.Sprintf("the secret is too long (%d bytes; at most %d)", len(p.Secret), MaxSecretBytes)}
	}
	if !p.Algorithm.known() {
		return &ParamsError{Field: "algorithm", Reason: algorithmReason(string(p.Algorithm))}
	}
	if p.Kind == Steam {
		if p.Algorithm != SHA1 {
			return &ParamsError{Field: "algorithm", Reason: "Steam Guard codes always use SHA1"}
		}
		if p.Digits != SteamDigits {
			return &ParamsError{Field: "digits", Reason: fmt.Sprintf("Steam Guard codes have %d characters (got %d)", SteamDigits, p.Digits)}
		}
	} else if p.Digits < MinDigits || p.Digits > MaxDigits {
		return &ParamsError{Field: "digits", Reason: fmt.Sprintf("codes must have 6, 7 or 8 digits (got %d)", p.Digits)}
	}
	if p.Kind != HOTP && (p.Period < 1 || p.Period > MaxPeriod) {
		return &ParamsError{Field: "period", Reason: fmt.Sprintf("the period must be 1 to %d seconds (got %d)", MaxPeriod, p.Period)}
	}
	return nil
}

// known reports whether codes can be computed with a. MD5 is deliberately
// absent: no service uses it, and pquerna/otp (which other apps' codes are
// checked against in the tests) indexes past the end of an MD5 sum.
func (a Algorithm) known() bool {
	switch a {
	case SHA1, SHA256, SHA512:
		return true
	}
	return false
}

// algorithmReason explains why an algorithm name is refused.
func algorithmReason(name string) string {
	switch {
	case name == "":
		return "no algorithm given (expected SHA1, SHA256 or SHA512)"
	case strings.EqualFold(name, "MD5"):
		return "the algorithm MD5 is not supported (expected SHA1, SHA256 or SHA512)"
	}
	return fmt.Sprintf("unknown algorithm %q (expected SHA1, SHA256 or SHA512)", clip(name))
}

// clip shortens outside text quoted back in an error, so a hostile value
// cannot flood a chat reply or a log line.
func clip(s string) string {
	const max = 24
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
