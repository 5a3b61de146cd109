package otp

import (
	"errors"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	tests := []struct {
		kind Kind
		want Params
	}{
		{TOTP, Params{Kind: TOTP, Algorithm: SHA1, Digits: 6, Period: 30}},
		{HOTP, Params{Kind: HOTP, Algorithm: SHA1, Digits: 6}},
		{Steam, Params{Kind: Steam, Algorithm: SHA1, Digits: 5, Period: 30}},
	}
	for _, tt := range tests {
		got := Default(tt.kind)
		if got.Kind != tt.want.Kind || got.Algorithm != tt.want.Algorithm || got.Digits != tt.want.Digits ||
			got.Period != tt.want.Period || got.Counter != 0 || got.Secret != nil {
			t.Errorf("Default(%s) = %+v, want %+v", tt.kind, got, tt.want)
		}
		// Defaults plus a secret are always valid.
		got.Secret = []byte{1}
		if err := got.Validate(); err != nil {
			t.Errorf("Default(%s) with a secret: %v", tt.kind, err)
		}
	}
}

func TestValidate(t *testing.T) {
	with := func(k Kind, edit func(*Params)) Params {
		p := Default(k)
		p.Secret = []byte("0123456789")
		edit(&p)
		return p
	}
	tests := []struct {
		name  string
		p     Params
		field string // "" when valid
		msg   string
	}{
		{"totp", with(TOTP, func(*Params) {}), "", ""},
		{"one-byte secret", with(TOTP, func(p *Params) { p.Secret = []byte{0} }), "", ""},
		{"longest secret", with(TOTP, func(p *Params) { p.Secret = make([]byte, MaxSecretBytes) }), "", ""},
		{"sha512 8 digits 1 s", with(TOTP, func(p *Params) { p.Algorithm, p.Digits, p.Period = SHA512, 8, 1 }), "", ""},
		{"hotp ignores period", with(HOTP, func(p *Params) { p.Period = -5 }), "", ""},
		{"steam", with(Steam, func(*Params) {}), "", ""},
		{"unknown kind", with("motp", func(*Params) {}), "kind", `unknown kind of one-time password "motp" (expected totp, hotp or steam)`},
		{"empty kind", Params{}, "kind", `unknown kind of one-time password "" (expected totp, hotp or steam)`},
		{"no secret", with(TOTP, func(p *Params) { p.Secret = nil }), "secret", "the secret is empty"},
		{"secret too long", with(TOTP, func(p *Params) { p.Secret = make([]byte, MaxSecretBytes+1) }), "secret", "the secret is too long (257 bytes; at most 256)"},
		{"no algorithm", with(TOTP, func(p *Params) { p.Algorithm = "" }), "algorithm", "no algorithm given (expected SHA1, SHA256 or SHA512)"},
		{"md5", with(HOTP, func(p *Params) { p.Algorithm = "MD5" }), "algorithm", "the algorithm MD5 is not supported (expected SHA1, SHA256 or SHA512)"},
		{"lower-case sha1", with(TOTP, func(p *Params) { p.Algorithm = "sha1" }), "algorithm", `unknown algorithm "sha1" (expected SHA1, SHA256 or SHA512)`},
		{"long name clipped", with(TOTP, func(p *Params) { p.Algorithm = Algorithm(strings.Repeat("é", 40)) }), "algorithm",
			`unknown algorithm "` + strings.Repeat("é", 24) + `…" (expected SHA1, SHA256 or SHA512)`},
		{"5 digits totp", with(TOTP, func(p *Params) { p.Digits = 5 }), "digits", "codes must have 6, 7 or 8 digits (got 5)"},
		{"9 digits hotp", with(HOTP, func(p *Params) { p.Digits = 9 }), "digits", "codes must have 6, 7 or 8 digits (got 9)"},
		{"0 digits", with(TOTP, func(p *Params) { p.Digits = 0 }), "digits", "codes must have 6, 7 or 8 digits (got 0)"},
		{"steam 6", with(Steam, func(p *Params) { p.Digits = 6 }), "digits", "Steam Guard codes have 5 characters (got 6)"},
		{"steam sha256", with(Steam, func(p *Params) { p.Algorithm = SHA256 }), "algorithm", "Steam Guard codes always use SHA1"},
		{"period 0", with(TOTP, func(p *Params) { p.Period = 0 }), "period", "the period must be 1 to 3600 seconds (got 0)"},
		{"negative period", with(Steam, func(p *Params) { p.Period = -30 }), "period", "the period must be 1 to 3600 seconds (got -30)"},
		{"period too long", with(TOTP, func(p *Params) { p.Period = 3601 }), "period", "the period must be 1 to 3600 seconds (got 3601)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var pe *ParamsError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("err = %v (%T), want *ParamsError wrapping ErrInvalidParams", err, err)
			}
			if pe.Field != tt.field || err.Error() != tt.msg {
				t.Errorf("got %s: %s\nwant %s: %s", pe.Field, err, tt.field, tt.msg)
			}
		})
	}
}
