// Package otp holds the one-time-password parameters of an account and
// everything that turns outside text into them: backup keys as people paste
// them, otpauth:// links, and the codes themselves (TOTP, HOTP, Steam Guard)
// computed from the secret's bytes with the standard library's HMAC (RFC
// 4226/6238). It does no I/O: time is an input.
package otp

// Kind is the kind of one-time password.
type Kind string

const (
	TOTP  Kind = "totp"
	HOTP  Kind = "hotp"
	Steam Kind = "steam" // Steam Guard: TOTP, 30 s, 5 characters from Steam's alphabet
)

// Algorithm is the HMAC hash. MD5 is refused: no service uses it.
type Algorithm string

const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Params is everything needed to compute codes for one account.
// Secret is the raw key (decoded from base32), never the base32 text.
type Params struct {
	Kind      Kind      `json:"kind"`
	Secret    []byte    `json:"secret"`
	Algorithm Algorithm `json:"algorithm"`
	Digits    int       `json:"digits"`            // 6–8 (Steam: 5)
	Period    int       `json:"period,omitempty"`  // seconds, TOTP and Steam
	Counter   uint64    `json:"counter,omitempty"` // HOTP: the counter the next code uses
}

// Key is one account as an otpauth:// link or another app's export describes
// it: who issued it, which account at that issuer, and its parameters.
type Key struct {
	Issuer  string `json:"issuer,omitempty"`
	Account string `json:"account,omitempty"` // e.g. alice@example.com
	Params  Params `json:"params"`
}
