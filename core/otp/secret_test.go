package otp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// hello is "Hello!\xde\xad\xbe\xef", the key of Google's Key URI example.
var hello = []byte("Hello!\xde\xad\xbe\xef")

func TestParseSecretAccepts(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"plain", "JBSWY3DPEHPK3PXP"},
		{"lower case", "jbswy3dpehpk3pxp"},
		{"mixed case", "JbSwY3dPeHpK3pXp"},
		{"groups of four", "JBSW Y3DP EHPK 3PXP"},
		{"lower groups", "jbsw y3dp ehpk 3pxp"},
		{"tabs", "JBSW\tY3DP\tEHPK\t3PXP"},
		{"dashes", "JBSW-Y3DP-EHPK-3PXP"},
		{"en dashes", "JBSW–Y3DP–EHPK–3PXP"},
		{"double spaces", "JBSW  Y3DP  EHPK  3PXP"},
		{"wrapped over lines", "JBSWY3DP\nEHPK3PXP"},
		{"crlf around", "\r\nJBSWY3DPEHPK3PXP\r\n"},
		{"surrounding space", "   JBSWY3DPEHPK3PXP  "},
		{"no-break space", "\u00a0JBSW\u00a0Y3DP EHPK 3PXP\u00a0"},
		{"zero-width space", "JBSW\u200bY3DPEHPK3PXP\ufeff"},
		{"double quotes", `"JBSWY3DPEHPK3PXP"`},
		{"single quotes", `'JBSWY3DPEHPK3PXP'`},
		{"curly double", "“JBSWY3DPEHPK3PXP”"},
		{"curly single", "‘JBSWY3DPEHPK3PXP’"},
		{"backticks", "`JBSWY3DPEHPK3PXP`"},
		{"triple backticks", "```\nJBSWY3DPEHPK3PXP\n```"},
		{"quote only in front", `"JBSWY3DPEHPK3PXP`},
		{"quote and space", ` " jbsw y3dp ehpk 3pxp " `},
	}
	want := hello
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecret(tt.in)
			if err != nil {
				t.Fatalf("ParseSecret(%q): %v", tt.in, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("ParseSecret(%q) = %x, want %x", tt.in, got, want)
			}
		})
	}
}

func TestParseSecretPadding(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", []byte("12345678901234567890")},                                   // 32 chars, none needed
		{"MFRGGZDFMZTWQ2LKNNWG23TPOA", []byte("abcdefghijklmnop")},                                             // 26 chars, 6 missing
		{"MFRGGZDFMZTWQ2LKNNWG23TPOA======", []byte("abcdefghijklmnop")},                                       // correct
		{"mfrg gzdf mztw q2lk nnwg 23tp oa== ====", []byte("abcdefghijklmnop")},                                // correct, grouped
		{"MFRGGZDFMZTWQ2LKNNWG23TPOBYQ", []byte("abcdefghijklmnopqr"[:17])},                                    // 28 chars
		{"MFRGGZDFMZTWQ2LKNNWG23TPOBYQ====", []byte("abcdefghijklmnopqr"[:17])},                                // 4 padding
		{"MFRGGZDFMZTWQ2LKNNWG23TPOBYXE", []byte("abcdefghijklmnopqr")},                                        // 29 chars
		{"MFRGGZDFMZTWQ2LKNNWG23TPOBYXE===", []byte("abcdefghijklmnopqr")},                                     // 3 padding
		{"MFRGGZDFMZTWQ2LKNNWG23TPOBYXE4Y", []byte("abcdefghijklmnopqrs")},                                     // 31 chars
		{"MFRGGZDFMZTWQ2LKNNWG23TPOBYXE4Y=", []byte("abcdefghijklmnopqrs")},                                    // 1 padding
		{EncodeSecret(bytes.Repeat([]byte{0xa5}, MaxSecretBytes)), bytes.Repeat([]byte{0xa5}, MaxSecretBytes)}, // longest
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSecret(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseSecretRejects(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		sentinel error
		msg      string
		pos      int
		char     rune
	}{
		{"empty", "", ErrSecretEmpty, "no backup key given", 0, 0},
		{"only spaces", " \t\n ", ErrSecretEmpty, "no backup key given", 0, 0},
		{"only quotes", `""`, ErrSecretEmpty, "no backup key given", 0, 0},
		{"only dashes", "----", ErrSecretEmpty, "no backup key given", 0, 0},
		{"digit one", "JBSW1Y3DPEHPK3PXP", ErrSecretNotBase32,
			"the character '1' at position 5 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7); if it is the letter I, type I", 5, '1'},
		{"digit zero after groups", "JBSW Y3D0 EHPK 3PXP", ErrSecretNotBase32,
			"the character '0' at position 8 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7); if it is the letter O, type O", 8, '0'},
		{"digit eight", "8BSWY3DPEHPK3PXP", ErrSecretNotBase32,
			"the character '8' at position 1 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7); if it is the letter B, type B", 1, '8'},
		{"digit nine", "JBSWY3DPEHPK3PX9", ErrSecretNotBase32,
			"the character '9' at position 16 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)", 16, '9'},
		{"base64 plus", "JBSWY3DP+EHPK3PXP", ErrSecretNotBase32,
			"the character '+' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)", 9, '+'},
		{"underscore", "JBSWY3DP_EHPK3PXP", ErrSecretNotBase32,
			"the character '_' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)", 9, '_'},
		{"quote inside", `JBSWY3DP"EHPK3PXP`, ErrSecretNotBase32,
			`the character '"' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)`, 9, '"'},
		{"apostrophe inside", `JBSWY3DP'EHPK3PXP`, ErrSecretNotBase32,
			`the character '\'' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)`, 9, '\''},
		{"cyrillic lookalike", "JBSWY3DPЕHPK3PXP", ErrSecretNotBase32,
			"the character 'Е' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)", 9, 'Е'},
		{"invisible control", "JBSWY3DP\u202eEHPK3PXP", ErrSecretNotBase32,
			`the character '\u202e' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)`, 9, '\u202e'},
		{"nul byte", "JBSWY3DP\x00EHPK3PXP", ErrSecretNotBase32,
			`the character '\x00' at position 9 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)`, 9, 0},
		{"padding in the middle", "JBSWY3DP==EHPK3PXP", ErrSecretNotBase32,
			"the '=' at position 9 is in the middle (it may only pad the end)", 9, '='},
		{"invalid utf-8", "JBSWY3DP\xffEHPK3PXP", ErrSecretNotBase32,
			"the text holds bytes that are not characters (not valid UTF-8)", 0, 0},
		{"an otpauth link", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", ErrSecretNotBase32,
			"the character ':' at position 8 is not used in backup keys (they use only the letters A to Z and the digits 2 to 7)", 8, ':'},
		{"one char", "A", ErrSecretTooShort,
			"too short to be a real backup key (1 characters; real ones have at least 16)", 0, 0},
		{"fifteen", "JBSWY3DPEHPK3PX", ErrSecretTooShort,
			"too short to be a real backup key (15 characters; real ones have at least 16)", 0, 0},
		{"eight grouped", "JBSW Y3DP", ErrSecretTooShort,
			"too short to be a real backup key (8 characters; real ones have at least 16)", 0, 0},
		{"17 chars (1 mod 8)", "JBSWY3DPEHPK3PXPA", ErrSecretNotBase32,
			"no backup key has 17 characters, so one is probably missing or extra", 0, 0},
		{"19 chars (3 mod 8)", "JBSWY3DPEHPK3PXPABC", ErrSecretNotBase32,
			"no backup key has 19 characters, so one is probably missing or extra", 0, 0},
		{"22 chars (6 mod 8)", "JBSWY3DPEHPK3PXPABCDEF", ErrSecretNotBase32,
			"no backup key has 22 characters, so one is probably missing or extra", 0, 0},
		{"padding on a full key", "JBSWY3DPEHPK3PXP========", ErrSecretNotBase32,
			"16 characters do not fit the 8 '=' at the end, so a character is probably missing or extra", 0, 0},
		{"padding of a lost char", "MFRGGZDFMZTWQ2LKNNWG23TPO======", ErrSecretNotBase32,
			"no backup key has 25 characters, so one is probably missing or extra", 0, 0},
		{"too much padding", "MFRGGZDFMZTWQ2LKNNWG23TPOA=======", ErrSecretNotBase32,
			"26 characters do not fit the 7 '=' at the end, so a character is probably missing or extra", 0, 0},
		{"too little padding", "MFRGGZDFMZTWQ2LKNNWG23TPOA==", ErrSecretNotBase32,
			"26 characters do not fit the 2 '=' at the end, so a character is probably missing or extra", 0, 0},
		{"too long", strings.Repeat("A", 416), ErrSecretTooLong,
			"too long to be a backup key (416 characters; at most 410 are accepted)", 0, 0},
		{"far too long", strings.Repeat("A", 5000), ErrSecretTooLong,
			"too long to be a backup key (more than 4096 characters)", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecret(tt.in)
			if got != nil {
				t.Errorf("returned %x with an error", got)
			}
			var se *SecretError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *SecretError", err, err)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("err is not %v", tt.sentinel)
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", err, tt.msg)
			}
			if se.Pos != tt.pos || se.Char != tt.char {
				t.Errorf("Pos, Char = %d, %q; want %d, %q", se.Pos, se.Char, tt.pos, tt.char)
			}
		})
	}
}

func TestEncodeSecret(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{hello, "JBSWY3DPEHPK3PXP"},
		{[]byte("abcdefghijklmnop"), "MFRGGZDFMZTWQ2LKNNWG23TPOA"}, // unpadded
		{nil, ""},
	}
	for _, tt := range tests {
		if got := EncodeSecret(tt.in); got != tt.want {
			t.Errorf("EncodeSecret(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for n := 10; n <= 64; n++ {
		b := bytes.Repeat([]byte{byte(n), 0xff, 0x00}, 22)[:n]
		got, err := ParseSecret(EncodeSecret(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%d bytes: round trip gave %x, %v", n, got, err)
		}
	}
}

func FuzzParseSecret(f *testing.F) {
	// More seeds in testdata/fuzz/FuzzParseSecret.
	f.Add("JBSW Y3DP EHPK 3PXP")
	f.Add("MFRGGZDFMZTWQ2LKNNWG23TPOA======")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseSecret(s)
		if err != nil {
			var se *SecretError
			if b != nil || !errors.As(err, &se) || se.Reason == "" {
				t.Fatalf("ParseSecret(%q) = %x, %v", s, b, err)
			}
			return
		}
		if len(b) < 10 || len(b) > MaxSecretBytes {
			t.Fatalf("ParseSecret(%q) accepted %d bytes", s, len(b))
		}
		again, err := ParseSecret(EncodeSecret(b))
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip of %q: %x, %v", s, again, err)
		}
	})
}

// A bad character is located the way the person sees the key: its group
// and its place in that group.
func TestParseSecretLocatesGroups(t *testing.T) {
	tests := []struct {
		in          string
		group, gpos int
		groupText   string
		pos         int
	}{
		{"JBSW Y3DP EHPK 3PX1", 4, 4, "3PX1", 16},
		{"jbsw-y3d0-ehpk-3pxp", 2, 4, "y3d0", 8},
		{"  JBSWY3DP  8HPK3PXP ", 2, 1, "8HPK3PXP", 9},
		{"JBSWY3DPEHPK3PX1", 0, 0, "", 16}, // one group: Pos says it
	}
	for _, tt := range tests {
		_, err := ParseSecret(tt.in)
		var se *SecretError
		if !errors.As(err, &se) {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if se.Group != tt.group || se.GroupPos != tt.gpos || se.GroupText != tt.groupText || se.Pos != tt.pos {
			t.Errorf("%q: group %d pos %d text %q (Pos %d); want %d %d %q (%d)", tt.in, se.Group, se.GroupPos, se.GroupText, se.Pos, tt.group, tt.gpos, tt.groupText, tt.pos)
		}
		if strings.Contains(se.Error(), se.GroupText) && se.GroupText != "" {
			t.Errorf("%q: the error text quotes a piece of the key: %s", tt.in, se.Error())
		}
	}
}
