package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

func mustKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewKeyIsRandom(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	if a == b || a == (Key{}) {
		t.Fatal("NewKey returned equal or zero keys")
	}
}

func TestParseKey(t *testing.T) {
	var raw Key
	for i := range raw {
		raw[i] = byte(i*7 + 0xf0) // exercises + / - _ in the encodings
	}
	std := base64.StdEncoding.EncodeToString(raw[:])
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"std padded", std, ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(raw[:]), ""},
		{"url padded", base64.URLEncoding.EncodeToString(raw[:]), ""},
		{"url raw", base64.RawURLEncoding.EncodeToString(raw[:]), ""},
		{"trailing newline", std + "\n", ""},
		{"surrounding spaces", "  " + std + "\t\r\n", ""},
		{"empty", "", "must be base64 of exactly 32 bytes, got nothing"},
		{"blank", " \n", "must be base64 of exactly 32 bytes, got nothing"},
		{"short", base64.StdEncoding.EncodeToString(raw[:16]), "must be base64 of exactly 32 bytes, got 16"},
		{"long", base64.StdEncoding.EncodeToString(append(raw[:], 1)), "must be base64 of exactly 32 bytes, got 33"},
		{"huge", strings.Repeat("A", 10000), "must be base64 of exactly 32 bytes, got 10000 characters"},
		{"not base64", "this is not a key!", "got text that is not base64"},
		{"mixed alphabets", "+" + base64.RawURLEncoding.EncodeToString(raw[:])[1:], "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKey: %v", err)
				}
				if k != raw {
					t.Fatal("ParseKey decoded the wrong key")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrKeyFormat) {
				t.Fatalf("ParseKey error = %v, want one containing %q", err, tt.wantErr)
			}
			if len(tt.in) > 8 && strings.Contains(err.Error(), strings.TrimSpace(tt.in)[:8]) {
				t.Fatalf("error echoes the input: %v", err)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	k := mustKey(t)
	got, err := ParseKey(Encode(&k))
	if err != nil || got != k {
		t.Fatalf("ParseKey(Encode(k)) = %v, %v", got == k, err)
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := mustKey(t)
	enc := Encode(&k)
	hex := fmt.Sprintf("%x", k[:])
	for _, verb := range []string{"%v", "%s", "%x", "%#v", "%+v", "%q"} {
		for _, arg := range []any{k, &k} {
			out := fmt.Sprintf(verb, arg)
			if strings.Contains(out, enc) || strings.Contains(out, hex) || !strings.Contains(out, "redacted") {
				t.Errorf("Sprintf(%q, %T) = %q reveals the key or does not say redacted", verb, arg, out)
			}
		}
	}
}

func TestZero(t *testing.T) {
	k := mustKey(t)
	Zero(&k)
	if k != (Key{}) {
		t.Fatal("Zero left key bytes")
	}
	Zero(nil) // must not panic
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKey(t)
	for _, n := range []int{0, 1, 200, 5 << 10} {
		p := bytes.Repeat([]byte{'x'}, n)
		s, err := Seal(&k, p, []byte("owner/id"))
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != n+Overhead || s[0] != 1 {
			t.Fatalf("sealed len %d (format %d), want %d", len(s), s[0], n+Overhead)
		}
		got, err := Open(&k, s, []byte("owner/id"))
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
}

func TestSealUsesFreshNonce(t *testing.T) {
	k := mustKey(t)
	a, _ := Seal(&k, []byte("same"), nil)
	b, _ := Seal(&k, []byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal")
	}
}

func TestOpenDoesNotModifyInput(t *testing.T) {
	k := mustKey(t)
	s, _ := Seal(&k, []byte("secret"), nil)
	orig := bytes.Clone(s)
	if _, err := Open(&k, s, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s, orig) {
		t.Fatal("Open changed its input")
	}
}

func TestOpenRejects(t *testing.T) {
	k, other := mustKey(t), mustKey(t)
	ad := []byte("owner-A\x00id-1")
	s, err := Seal(&k, []byte("JBSWY3DPEHPK3PXP"), ad)
	if err != nil {
		t.Fatal(err)
	}
	reformat := bytes.Clone(s)
	reformat[0] = 2
	tests := []struct {
		name   string
		key    *Key
		sealed []byte
		ad     []byte
	}{
		{"wrong key", &other, s, ad},
		{"nil key", nil, s, ad},
		{"wrong ad", &k, s, []byte("owner-A\x00id-2")},
		{"swapped owner", &k, s, []byte("owner-B\x00id-1")},
		{"missing ad", &k, s, nil},
		{"unknown format", &k, reformat, ad},
		{"empty", &k, nil, ad},
		{"format only", &k, s[:1], ad},
		{"truncated tag", &k, s[:len(s)-1], ad},
		{"header only", &k, s[:Overhead-1], ad},
		{"extended", &k, append(bytes.Clone(s), 0), ad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := Open(tt.key, tt.sealed, tt.ad); !errors.Is(err, ErrAuth) || p != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrAuth", p, err)
			}
		})
	}
	t.Run("every byte tampered", func(t *testing.T) {
		for i := range s {
			for _, flip := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(s)
				bad[i] ^= flip
				if _, err := Open(&k, bad, ad); !errors.Is(err, ErrAuth) {
					t.Fatalf("byte %d ^ %#x: Open err = %v, want ErrAuth", i, flip, err)
				}
			}
		}
	})
	t.Run("every truncation", func(t *testing.T) {
		for n := range len(s) {
			if _, err := Open(&k, s[:n], ad); !errors.Is(err, ErrAuth) {
				t.Fatalf("len %d: Open err = %v, want ErrAuth", n, err)
			}
		}
	})
	if ErrAuth.Error() != "record failed authentication" {
		t.Fatalf("ErrAuth text = %q", ErrAuth)
	}
}

func TestWrapUnwrap(t *testing.T) {
	kek, other, dk := mustKey(t), mustKey(t), mustKey(t)
	ad := []byte("owner-A")
	w, err := Wrap(&kek, &dk, ad)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unwrap(&kek, w, ad)
	if err != nil || got != dk {
		t.Fatalf("Unwrap = %v, %v", got == dk, err)
	}
	for name, f := range map[string]func() error{
		"wrong kek":         func() error { _, err := Unwrap(&other, w, ad); return err },
		"wrong owner":       func() error { _, err := Unwrap(&kek, w, []byte("owner-B")); return err },
		"truncated":         func() error { _, err := Unwrap(&kek, w[:len(w)-3], ad); return err },
		"wrapped as record": func() error { _, err := Open(&kek, w, ad); return err },
		"record as wrapped": func() error { s, _ := Seal(&kek, dk[:], ad); _, err := Unwrap(&kek, s, ad); return err },
		"authentic non-key": func() error {
			s, _ := seal(&kek, domainKey, []byte("short"), ad)
			_, err := Unwrap(&kek, s, ad)
			return err
		},
		"domain via ad trick": func() error {
			s, _ := Seal(&kek, dk[:], nil)
			_, err := Unwrap(&kek, s, []byte(domainRecord))
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := f(); !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
		})
	}
}

func TestDerive(t *testing.T) {
	m := mustKey(t)
	a, a2, b := Derive(&m, "owner-ids"), Derive(&m, "owner-ids"), Derive(&m, "matrix-pickle")
	if a != a2 {
		t.Fatal("Derive is not deterministic")
	}
	if a == b || a == m || b == m {
		t.Fatal("derived keys collide with each other or the master")
	}
	m2 := mustKey(t)
	if Derive(&m2, "owner-ids") == a {
		t.Fatal("different masters derived the same key")
	}
	// Pin the construction so a refactor cannot silently change every
	// derived key (and so every opaque id on disk).
	var zero Key
	got := Derive(&zero, "key-check")
	if g := fmt.Sprintf("%x", got[:4]); g != pinnedDerive {
		t.Fatalf("Derive(zero, key-check) starts %s, want %s", g, pinnedDerive)
	}
}

// pinnedDerive is the start of Derive(zero key, "key-check").
const pinnedDerive = "9d6fb9fd" // checked against Python hmac (RFC 5869 by hand)

func TestOpaqueID(t *testing.T) {
	k, k2 := mustKey(t), mustKey(t)
	a := OpaqueID(&k, "telegram:123456789")
	if a != OpaqueID(&k, "telegram:123456789") {
		t.Fatal("OpaqueID is not deterministic")
	}
	if len(a) != 22 || strings.ContainsAny(a, "+/=\x00") || strings.Contains(a, "123456789") {
		t.Fatalf("OpaqueID = %q, want 22 base64url chars hiding the input", a)
	}
	if a == OpaqueID(&k, "telegram:123456780") || a == OpaqueID(&k2, "telegram:123456789") {
		t.Fatal("OpaqueID collides across inputs or keys")
	}
	if OpaqueID(&k, "") == "" {
		t.Fatal("OpaqueID of empty string is empty")
	}
}

func TestPassphraseKey(t *testing.T) {
	// Small costs: the test checks the wiring, not the hardness.
	p := Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}
	salt := []byte("0123456789abcdef")
	a := PassphraseKey([]byte("correct horse"), salt, p)
	if a != PassphraseKey([]byte("correct horse"), salt, p) {
		t.Fatal("PassphraseKey is not deterministic")
	}
	if a == PassphraseKey([]byte("correct horsf"), salt, p) || a == PassphraseKey([]byte("correct horse"), []byte("0123456789abcdeF"), p) {
		t.Fatal("PassphraseKey ignores passphrase or salt")
	}
	if a == PassphraseKey([]byte("correct horse"), salt, Argon2Params{Time: 2, MemoryKiB: 64, Threads: 1}) {
		t.Fatal("PassphraseKey ignores params")
	}
	if DefaultArgon2 != (Argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}) {
		t.Fatalf("DefaultArgon2 = %+v", DefaultArgon2)
	}
}

func benchOpen(b *testing.B, n int) {
	k := mustKey(b)
	ad := []byte("0123456789abcdefghijkl/0123456789abcdefghijkl")
	s, err := Seal(&k, make([]byte, n), ad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(&k, s, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen200B(b *testing.B) { benchOpen(b, 200) }
func BenchmarkOpen5KiB(b *testing.B) { benchOpen(b, 5<<10) }

// benchOpenReused is the alternative Open was measured against: one AEAD
// built up front. See the comment in open.
func benchOpenReused(b *testing.B, n int) {
	k := mustKey(b)
	ad := []byte("0123456789abcdefghijkl/0123456789abcdefghijkl")
	s, _ := Seal(&k, make([]byte, n), ad)
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		b.Fatal(err)
	}
	full := fullAD(formatV1, domainRecord, ad, nil)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := aead.Open(nil, s[1:1+nonceSize], s[1+nonceSize:], full); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenReusedAEAD200B(b *testing.B) { benchOpenReused(b, 200) }
func BenchmarkOpenReusedAEAD5KiB(b *testing.B) { benchOpenReused(b, 5<<10) }

func BenchmarkSeal200B(b *testing.B) {
	k := mustKey(b)
	p := make([]byte, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(&k, p, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOpenSharedBuffer checks open's one allocation for the associated
// data and the plaintext: the plaintext is capped at its length (an append
// by the caller cannot overwrite anything), parts open what Seal sealed
// with the joined ad, and an open takes two allocations (the AEAD and the
// shared buffer).
func TestOpenSharedBuffer(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 200)
	sealed, err := Seal(&k, msg, []byte("acct|owner|id"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenParts(&k, sealed, "acct|", "owner|", "id")
	if err != nil || !bytes.Equal(p, msg) {
		t.Fatalf("OpenParts = %q, %v", p, err)
	}
	if cap(p) != len(p) {
		t.Errorf("plaintext cap %d, len %d: appending would write past it", cap(p), len(p))
	}
	if _, err := OpenParts(&k, sealed, "acct|", "owner|", "other"); !errors.Is(err, ErrAuth) {
		t.Errorf("other ad: %v, want ErrAuth", err)
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = OpenParts(&k, sealed, "acct|", "owner|", "id") }); n > 2 {
		t.Errorf("OpenParts allocates %v times, want 2", n)
	}
}

// TestOpenPartsIn: a buffer large enough is used and returned for the next
// open (one allocation left, the AEAD), a small one is replaced, and a
// failed open leaves no plaintext in the buffer.
func TestOpenPartsIn(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("s"), 200)
	sealed, err := Seal(&k, msg, []byte("acct|owner|id"))
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(sealed)
	tests := []struct {
		name    string
		scratch int // capacity given
		ad      string
		wantErr bool
		reused  bool
	}{
		{"room", 512, "id", false, true},
		{"no room", 16, "id", false, false},
		{"nil", 0, "id", false, false},
		{"wrong ad", 512, "other", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var scratch []byte
			if tc.scratch > 0 {
				scratch = make([]byte, 0, tc.scratch)
			}
			p, buf, err := OpenPartsIn(scratch, &k, sealed, "acct|", "owner|", tc.ad)
			if tc.wantErr {
				if !errors.Is(err, ErrAuth) || p != nil {
					t.Fatalf("OpenPartsIn = %q, %v; want ErrAuth", p, err)
				}
				if bytes.Contains(buf[:cap(buf)], []byte("ssss")) {
					t.Error("a failed open left plaintext in the buffer")
				}
			} else if err != nil || !bytes.Equal(p, msg) {
				t.Fatalf("OpenPartsIn = %q, %v", p, err)
			}
			if got := tc.scratch > 0 && &buf[:1][0] == &scratch[:1][0]; got != tc.reused {
				t.Errorf("scratch reused %v, want %v", got, tc.reused)
			}
			if !tc.wantErr && cap(p) != len(p) {
				t.Errorf("plaintext cap %d, len %d", cap(p), len(p))
			}
			if !bytes.Equal(sealed, orig) {
				t.Error("the sealed record changed")
			}
		})
	}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(50, func() { _, buf, _ = OpenPartsIn(buf, &k, sealed, "acct|", "owner|", "id") }); n > 1 {
		t.Errorf("OpenPartsIn with room allocates %v times, want 1 (the AEAD)", n)
	}
}
