package otp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// key builds the Key a test expects, starting from the kind's defaults.
func key(issuer, account string, kind Kind, secret []byte, edit func(*Params)) Key {
	p := Default(kind)
	p.Secret = secret
	if edit != nil {
		edit(&p)
	}
	return Key{Issuer: issuer, Account: account, Params: p}
}

func TestParseURIAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Key
	}{
		{"google example",
			"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			key("Example", "alice@google.com", TOTP, hello, nil)},
		{"everything spelt out",
			"otpauth://totp/ACME%20Co:john.doe@email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
			key("ACME Co", "john.doe@email.com", TOTP, rfcSeed(20), nil)},
		{"colon escaped",
			"otpauth://totp/Big%20Corp%3Aalice?secret=JBSWY3DPEHPK3PXP",
			key("Big Corp", "alice", TOTP, hello, nil)},
		{"colon lower-case escape",
			"otpauth://totp/Big%3aalice?secret=JBSWY3DPEHPK3PXP",
			key("Big", "alice", TOTP, hello, nil)},
		{"spaces around label parts",
			"otpauth://totp/%20Example%20:%20%20alice%20?secret=JBSWY3DPEHPK3PXP",
			key("Example", "alice", TOTP, hello, nil)},
		{"raw spaces in label",
			"otpauth://totp/ACME Co: alice?secret=JBSWY3DPEHPK3PXP",
			key("ACME Co", "alice", TOTP, hello, nil)},
		{"only account",
			"otpauth://totp/alice@google.com?secret=JBSWY3DPEHPK3PXP",
			key("", "alice@google.com", TOTP, hello, nil)},
		{"only issuer param",
			"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
			key("GitHub", "alice", TOTP, hello, nil)},
		{"issuer param wins over label",
			"otpauth://totp/Old%20Name:alice?secret=JBSWY3DPEHPK3PXP&issuer=New%20Name",
			key("New Name", "alice", TOTP, hello, nil)},
		{"empty issuer param keeps label prefix",
			"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=",
			key("Example", "alice", TOTP, hello, nil)},
		{"issuer plus is a space",
			"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co",
			key("ACME Co", "alice", TOTP, hello, nil)},
		{"plus in account stays",
			"otpauth://totp/Example:alice+2fa@example.com?secret=JBSWY3DPEHPK3PXP",
			key("Example", "alice+2fa@example.com", TOTP, hello, nil)},
		{"second colon belongs to account",
			"otpauth://totp/Big:Corp:alice?secret=JBSWY3DPEHPK3PXP",
			key("Big", "Corp:alice", TOTP, hello, nil)},
		{"unicode names",
			"otpauth://totp/%D0%AF%D0%BD%D0%B4%D0%B5%D0%BA%D1%81:%E5%B0%8F%E6%98%8E?secret=JBSWY3DPEHPK3PXP",
			key("Яндекс", "小明", TOTP, hello, nil)},
		{"empty label",
			"otpauth://totp/?secret=JBSWY3DPEHPK3PXP",
			key("", "", TOTP, hello, nil)},
		{"no path",
			"otpauth://totp?secret=JBSWY3DPEHPK3PXP",
			key("", "", TOTP, hello, nil)},
		{"upper-case scheme and type",
			"OTPAUTH://TOTP/Example:alice?SECRET=JBSWY3DPEHPK3PXP&Issuer=Example",
			key("Example", "alice", TOTP, hello, nil)},
		{"surrounding whitespace and fragment",
			"\n  otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP#x  \n",
			key("Example", "alice", TOTP, hello, nil)},
		{"lower-case grouped padded secret",
			"otpauth://totp/x?secret=mfrg%20gzdf%20mztw%20q2lk%20nnwg%2023tp%20oa%3D%3D%3D%3D%3D%3D",
			key("", "x", TOTP, []byte("abcdefghijklmnop"), nil)},
		{"unknown parameters ignored",
			"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fexample.com%2Flogo.png&&foo",
			key("", "x", TOTP, hello, nil)},
		{"sha256 eight digits 60 s",
			"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=sha256&digits=8&period=60",
			key("", "x", TOTP, hello, func(p *Params) { p.Algorithm, p.Digits, p.Period = SHA256, 8, 60 })},
		{"SHA512 seven digits",
			"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&digits=7",
			key("", "x", TOTP, hello, func(p *Params) { p.Algorithm, p.Digits = SHA512, 7 })},
		{"algorithm with a dash",
			"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA-256",
			key("", "x", TOTP, hello, func(p *Params) { p.Algorithm = SHA256 })},
		{"period 3600",
			"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=3600",
			key("", "x", TOTP, hello, func(p *Params) { p.Period = 3600 })},
		{"counter ignored on totp",
			"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&counter=9",
			key("", "x", TOTP, hello, nil)},
		{"hotp with counter",
			"otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&counter=42",
			key("Example", "alice", HOTP, hello, func(p *Params) { p.Counter = 42 })},
		{"hotp largest counter",
			"otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615",
			key("", "x", HOTP, hello, func(p *Params) { p.Counter = 1<<64 - 1 })},
		{"hotp without counter",
			"otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&period=0",
			key("", "x", HOTP, hello, nil)},
		{"steam type",
			"otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP",
			key("Steam", "gaben", Steam, hello, nil)},
		{"steam encoder (Aegis)",
			"otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam&algorithm=SHA1&digits=5&period=30&encoder=steam",
			key("Steam", "gaben", Steam, hello, nil)},
		{"steam encoder ignores digits and algorithm",
			"otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&digits=6&algorithm=MD5&period=0&encoder=STEAM",
			key("Steam", "gaben", Steam, hello, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURI(tt.in)
			if err != nil {
				t.Fatalf("ParseURI(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseURI(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseURIRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		is   error // a sentinel the error must match, if any
		msg  string
	}{
		{"empty", "", ErrNotOTPAuth, "not an otpauth:// link"},
		{"web link", "https://example.com/?secret=JBSWY3DPEHPK3PXP", ErrNotOTPAuth, "not an otpauth:// link"},
		{"bare key", "JBSWY3DPEHPK3PXP", ErrNotOTPAuth, "not an otpauth:// link"},
		{"opaque form", "otpauth:totp/x?secret=JBSWY3DPEHPK3PXP", ErrNotOTPAuth, "not an otpauth:// link"},
		{"migration link", "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8", ErrNotOTPAuth,
			"an otpauth-migration:// link (a Google Authenticator export), not a single otpauth:// link"},
		{"too long", "otpauth://totp/" + strings.Repeat("a", MaxURILen) + "?secret=JBSWY3DPEHPK3PXP", nil,
			"the link is too long (more than 4096 characters)"},
		{"bad escape in label", "otpauth://totp/Ex%ZZ:alice?secret=JBSWY3DPEHPK3PXP", nil,
			"the link is damaged: it is not a well-formed URL"},
		{"control character", "otpauth://totp/x\x01?secret=JBSWY3DPEHPK3PXP", nil,
			"the link is damaged: it is not a well-formed URL"},
		{"user info", "otpauth://me@totp/x?secret=JBSWY3DPEHPK3PXP", nil,
			"the link is damaged: it is not a well-formed URL"},
		{"invalid utf-8", "otpauth://totp/\xff?secret=JBSWY3DPEHPK3PXP", nil,
			"the link is damaged: it is not valid UTF-8"},
		{"bad escape in query", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=%G1", nil,
			`the link is damaged: the "issuer" parameter has a bad % escape`},
		{"unknown type", "otpauth://motp/x?secret=JBSWY3DPEHPK3PXP", nil,
			`unknown kind of one-time password "motp" in the link (expected totp, hotp or steam)`},
		{"no type", "otpauth:///x?secret=JBSWY3DPEHPK3PXP", nil,
			`unknown kind of one-time password "" in the link (expected totp, hotp or steam)`},
		{"no secret", "otpauth://totp/Example:alice?issuer=Example", nil, "the link has no secret"},
		{"empty secret", "otpauth://totp/Example:alice?secret=&issuer=Example", nil, "the link has no secret"},
		{"two secrets", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&secret=GEZDGNBVGY3TQOJQ", nil,
			"the link has the secret parameter twice"},
		{"two issuers", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=A&Issuer=B", nil,
			"the link has the issuer parameter twice"},
		{"plus in secret", "otpauth://totp/x?secret=JBSWY3DP+EHPK3PXP", ErrSecretNotBase32,
			"the secret in the link does not work: the character '+' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)"},
		{"base64 secret", "otpauth://totp/x?secret=SGVsbG8h3q2%2B7w%3D%3D", ErrSecretNotBase32,
			"the secret in the link does not work: the character '8' at position 7 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7); if it is the letter B, type B"},
		{"short secret", "otpauth://totp/x?secret=JBSWY3DP", ErrSecretTooShort,
			"the secret in the link does not work: too short to be a real backup key (8 characters; real ones have at least 16)"},
		{"md5", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", nil,
			"the link asks for the MD5 algorithm, which is not supported (expected SHA1, SHA256 or SHA512)"},
		{"md5 lower case", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&algorithm=md5", nil,
			"the link asks for the MD5 algorithm, which is not supported (expected SHA1, SHA256 or SHA512)"},
		{"unknown algorithm", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA3-256", nil,
			`the link asks for an unknown algorithm "SHA3-256" (expected SHA1, SHA256 or SHA512)`},
		{"empty algorithm", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=", nil,
			`the link asks for an unknown algorithm "" (expected SHA1, SHA256 or SHA512)`},
		{"long algorithm is clipped", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=" + strings.Repeat("x", 100), nil,
			`the link asks for an unknown algorithm "xxxxxxxxxxxxxxxxxxxxxxxx…" (expected SHA1, SHA256 or SHA512)`},
		{"five digits", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=5", nil,
			`codes must have 6, 7 or 8 digits (the link says "5")`},
		{"nine digits", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&digits=9", nil,
			`codes must have 6, 7 or 8 digits (the link says "9")`},
		{"zero digits", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=0", nil,
			`codes must have 6, 7 or 8 digits (the link says "0")`},
		{"digits in words", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=eight", nil,
			`codes must have 6, 7 or 8 digits (the link says "eight")`},
		{"zero period", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0", nil,
			`the period must be a whole number of seconds from 1 to 3600 (the link says "0")`},
		{"negative period", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=-30", nil,
			`the period must be a whole number of seconds from 1 to 3600 (the link says "-30")`},
		{"fractional period", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=30.5", nil,
			`the period must be a whole number of seconds from 1 to 3600 (the link says "30.5")`},
		{"huge period", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=3601", nil,
			`the period must be a whole number of seconds from 1 to 3600 (the link says "3601")`},
		{"negative counter", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=-1", nil,
			`the counter must be a whole number from 0 (the link says "-1")`},
		{"counter overflow", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551616", nil,
			`the counter must be a whole number from 0 (the link says "18446744073709551616")`},
		{"counter garbage", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=abc", nil,
			`the counter must be a whole number from 0 (the link says "abc")`},
		{"unknown encoder", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&encoder=yandex", nil,
			`unknown encoder "yandex" in the link (only steam is known)`},
		{"steam on hotp", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&encoder=steam", nil,
			"the link asks for Steam codes on a counter (hotp) key; Steam Guard codes are time-based"},
		{"newline in issuer", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=Evil%0ACorp", nil,
			`the issuer in the link contains an invisible or control character ('\n')`},
		{"bidi override in account", "otpauth://totp/Example:%E2%80%AEalice?secret=JBSWY3DPEHPK3PXP", nil,
			`the account name in the link contains an invisible or control character ('\u202e')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURI(tt.in)
			if !reflect.DeepEqual(got, Key{}) {
				t.Errorf("returned %+v with an error", got)
			}
			var ue *URIError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v (%T), want *URIError", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err is not %v", tt.is)
			}
			if tt.is != ErrNotOTPAuth && errors.Is(err, ErrNotOTPAuth) {
				t.Errorf("err wrongly is ErrNotOTPAuth")
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", err, tt.msg)
			}
		})
	}
}

func TestKeyURI(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		want string
	}{
		{"totp", key("Example", "alice@google.com", TOTP, hello, nil),
			"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30"},
		{"escapes", key("ACME Co & Sons", "a+b c", TOTP, []byte("abcdefghijklmnop"), func(p *Params) { p.Algorithm, p.Digits, p.Period = SHA512, 8, 60 }),
			"otpauth://totp/ACME%20Co%20%26%20Sons:a%2Bb%20c?secret=MFRGGZDFMZTWQ2LKNNWG23TPOA&issuer=ACME%20Co%20%26%20Sons&algorithm=SHA512&digits=8&period=60"},
		{"hotp", key("Example", "alice", HOTP, hello, func(p *Params) { p.Counter = 7 }),
			"otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&counter=7"},
		{"steam", key("Steam", "gaben", Steam, hello, nil),
			"otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam&algorithm=SHA1&digits=5&period=30&encoder=steam"},
		{"no issuer", key("", "alice", TOTP, hello, nil),
			"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30"},
		{"colon in issuer", key("A:B", "alice", TOTP, hello, nil),
			"otpauth://totp/:alice?secret=JBSWY3DPEHPK3PXP&issuer=A%3AB&algorithm=SHA1&digits=6&period=30"},
		{"colon in account, no issuer", key("", "a:b", TOTP, hello, nil),
			"otpauth://totp/:a%3Ab?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.key.URI()
			if got != tt.want {
				t.Errorf("URI()\n got %s\nwant %s", got, tt.want)
			}
			back, err := ParseURI(got)
			if err != nil {
				t.Fatalf("ParseURI(URI()): %v", err)
			}
			if !reflect.DeepEqual(back, tt.key) {
				t.Errorf("round trip\n got %+v\nwant %+v", back, tt.key)
			}
		})
	}
}

func TestKeyURIRoundTrip(t *testing.T) {
	names := []string{"", "GitHub", "ACME Co", "a:b", "Big:Corp:x", "x/y?z#w", "100%", "Яндекс", "a+b", "=&=", "@", "  ", "~._-"}
	kinds := []Params{
		key("", "", TOTP, hello, nil).Params,
		key("", "", TOTP, rfcSeed(64), func(p *Params) { p.Algorithm, p.Digits, p.Period = SHA256, 7, 1 }).Params,
		key("", "", HOTP, rfcSeed(32), func(p *Params) { p.Counter = 1<<64 - 1 }).Params,
		key("", "", Steam, rfcSeed(20), nil).Params,
	}
	for _, issuer := range names {
		for _, account := range names {
			for _, p := range kinds {
				k := Key{Issuer: strings.TrimSpace(issuer), Account: strings.TrimSpace(account), Params: p}
				back, err := ParseURI(k.URI())
				if err != nil {
					t.Fatalf("%+v: %s: %v", k, k.URI(), err)
				}
				if !reflect.DeepEqual(back, k) {
					t.Fatalf("%s\n got %+v\nwant %+v", k.URI(), back, k)
				}
			}
		}
	}
}

func FuzzParseURI(f *testing.F) {
	// More seeds in testdata/fuzz/FuzzParseURI.
	f.Add("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example")
	f.Add("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=3&digits=8&algorithm=sha512")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseURI(s)
		if err != nil {
			var ue *URIError
			if !errors.As(err, &ue) || ue.Reason == "" || !reflect.DeepEqual(k, Key{}) {
				t.Fatalf("ParseURI(%q) = %+v, %v", s, k, err)
			}
			return
		}
		if err := k.Params.Validate(); err != nil {
			t.Fatalf("ParseURI(%q) accepted invalid params: %v", s, err)
		}
		back, err := ParseURI(k.URI())
		if err != nil {
			t.Fatalf("ParseURI(%q).URI() = %s does not parse: %v", s, k.URI(), err)
		}
		if !reflect.DeepEqual(back, k) {
			t.Fatalf("round trip of %q via %s\n got %+v\nwant %+v", s, k.URI(), back, k)
		}
	})
}

func BenchmarkParseURI(b *testing.B) {
	const link = "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseURI(link); err != nil {
			b.Fatal(err)
		}
	}
}
