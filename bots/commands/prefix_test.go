package commands

import (
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ prefix, in, want string }{
		{"!", "!code binance", "/code binance"},
		{"!", "  !CODE binance", "/CODE binance"},
		{"!", "!add binance JBSW Y3DP", "/add binance JBSW Y3DP"},
		{"!", "!join abc", "/join abc"},
		{"!", "!recovery_codes x", "/recovery_codes x"},
		{"!", "!help", "/help"},
		{"!", "/code binance", "/code binance"}, // "/" still works
		{"!", "!Secret1 passphrase", "!Secret1 passphrase"},
		{"!", "!!", "!!"},
		{"!", "hello!", "hello!"},
		{"", "!code", "!code"},
		{"/", "!code", "!code"},
	} {
		if got := Canonical(tc.prefix, tc.in); got != tc.want {
			t.Errorf("Canonical(%q, %q) = %q, want %q", tc.prefix, tc.in, got, tc.want)
		}
	}
}

func TestLocalizeText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Send /code binance.", "Send !code binance."},
		{"/help — Show what I can do", "!help — Show what I can do"},
		{"Use: /del NAME. (/cancel to stop)", "Use: !del NAME. (!cancel to stop)"},
		{"/recovery-codes NAME CODES…", "!recovery-codes NAME CODES…"},
		{"on Matrix send /join abc", "on Matrix send !join abc"},
		{"otpauth://totp/code?secret=JBSW", "otpauth://totp/code?secret=JBSW"},
		{"https://example.com/help", "https://example.com/help"},
		{"team/code and /notacommand", "team/code and /notacommand"},
		{"Commands start with /. Send /help", "Commands start with /. Send !help"},
		{"/code/x is a path", "/code/x is a path"},
		{"no slash at all", "no slash at all"},
	} {
		if got := localizeText("!", tc.in); got != tc.want {
			t.Errorf("localizeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLocalizeKeepsButtonDataAndOriginal(t *testing.T) {
	in := []Reply{{
		Parts:   []Part{{Text: "Send /code"}, {Text: "/join x", Code: true}},
		Buttons: [][]Button{{{Label: "Run /code", Data: "/code #abc"}}},
		File:    &File{Name: "f", Caption: "Then /help"},
	}}
	out := Localize("!", in)
	if got := out[0].PlainText(); got != "Send !code!join x" {
		t.Errorf("text = %q", got)
	}
	if b := out[0].Buttons[0][0]; b.Label != "Run !code" || b.Data != "/code #abc" {
		t.Errorf("button = %+v", b)
	}
	if out[0].File.Caption != "Then !help" {
		t.Errorf("caption = %q", out[0].File.Caption)
	}
	if in[0].PlainText() != "Send /code/join x" || in[0].File.Caption != "Then /help" || in[0].Buttons[0][0].Label != "Run /code" {
		t.Error("Localize changed its input")
	}
}

// Every command in the table is read with "!" and shown with "!".
func TestEveryCommandWordHasBothForms(t *testing.T) {
	for _, c := range commandTable() {
		if got := Canonical(MatrixPrefix, "!"+c.name+" x"); got != "/"+c.name+" x" {
			t.Errorf("Canonical(!%s) = %q", c.name, got)
		}
		if got := localizeText(MatrixPrefix, "send /"+c.name+"."); !strings.Contains(got, "!"+c.name+".") {
			t.Errorf("localize /%s = %q", c.name, got)
		}
	}
}
