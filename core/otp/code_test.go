package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// rfcSeed returns the RFC 6238 Appendix B key for the hash: "1234567890"
// repeated to 20, 32 or 64 bytes.
func rfcSeed(n int) []byte {
	return []byte(strings.Repeat("1234567890", 7)[:n])
}

func TestCodeRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for c, w := range want {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			p := Default(HOTP)
			p.Secret = rfcSeed(20)
			p.Counter = uint64(c)
			got, until, err := Code(p, time.Unix(1_700_000_000, 0))
			if err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Errorf("counter %d: code %s, want %s", c, got, w)
			}
			if !until.IsZero() {
				t.Errorf("HOTP validUntil = %v, want zero", until)
			}
		})
	}
}

// rfc6238 is RFC 6238's appendix B: 8-digit codes at six times for each
// algorithm, the seed 20, 32 or 64 bytes long (rfcSeed).
var rfc6238 = []struct {
	unix int64
	alg  Algorithm
	want string
}{
	{59, SHA1, "94287082"}, {59, SHA256, "46119246"}, {59, SHA512, "90693936"},
	{1111111109, SHA1, "07081804"}, {1111111109, SHA256, "68084774"}, {1111111109, SHA512, "25091201"},
	{1111111111, SHA1, "14050471"}, {1111111111, SHA256, "67062674"}, {1111111111, SHA512, "99943326"},
	{1234567890, SHA1, "89005924"}, {1234567890, SHA256, "91819424"}, {1234567890, SHA512, "93441116"},
	{2000000000, SHA1, "69279037"}, {2000000000, SHA256, "90698825"}, {2000000000, SHA512, "38618901"},
	{20000000000, SHA1, "65353130"}, {20000000000, SHA256, "77737706"}, {20000000000, SHA512, "47863826"},
}

func TestCodeRFC6238(t *testing.T) {
	tests := rfc6238
	seed := map[Algorithm]int{SHA1: 20, SHA256: 32, SHA512: 64}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.alg, tt.unix), func(t *testing.T) {
			p := Params{Kind: TOTP, Secret: rfcSeed(seed[tt.alg]), Algorithm: tt.alg, Digits: 8, Period: 30}
			at := time.Unix(tt.unix, 0).UTC()
			got, until, err := Code(p, at)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("code %s, want %s", got, tt.want)
			}
			wantUntil := time.Unix((tt.unix/30+1)*30, 0)
			if !until.Equal(wantUntil) || until.Location() != time.UTC {
				t.Errorf("validUntil %v, want %v in UTC", until, wantUntil)
			}
			ok, err := Verify(p, tt.want, at, 0)
			if err != nil || !ok {
				t.Errorf("Verify(own code) = %v, %v", ok, err)
			}
		})
	}
}

// steamOracle is Steam Guard written out from its description, independent
// of pquerna/otp: HMAC-SHA1 over the 30-second counter, RFC 4226 dynamic
// truncation, then five characters of Steam's alphabet, least significant
// first.
func steamOracle(secret []byte, unix int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(unix/30))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	const alphabet = "23456789BCDFGHJKMNPQRTVWXY"
	var out [5]byte
	for i := range out {
		out[i] = alphabet[v%26]
		v /= 26
	}
	return string(out[:])
}

func TestCodeSteam(t *testing.T) {
	secret := []byte("steam-shared-secret!")
	p := Default(Steam)
	p.Secret = secret
	if got, want := steamOracle(secret, 1_700_000_000), "C7R87"; got != want {
		// Pinned from the oracle once, so a change to the oracle shows.
		t.Fatalf("oracle at 1700000000 = %s, want %s", got, want)
	}
	for i := int64(0); i < 500; i++ {
		unix := 1_600_000_000 + i*30 + i%30
		got, until, err := Code(p, time.Unix(unix, 0))
		if err != nil {
			t.Fatal(err)
		}
		if want := steamOracle(secret, unix); got != want {
			t.Fatalf("at %d: code %s, oracle %s", unix, got, want)
		}
		if until.Unix() != (unix/30+1)*30 {
			t.Fatalf("at %d: validUntil %d", unix, until.Unix())
		}
	}
}

// TestCodeOathtool pins the value `oathtool --totp -b JBSWY3DPEHPK3PXP
// --now "2024-01-01 00:00:00 UTC"` printed (oathtool 2.6.7): 432690.
func TestCodeOathtool(t *testing.T) {
	secret, err := ParseSecret("JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	p := Default(TOTP)
	p.Secret = secret
	got, _, err := Code(p, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := "432690"; got != want {
		t.Errorf("code %s, oathtool %s", got, want)
	}
}

func TestCodePeriodsAndDigits(t *testing.T) {
	secret := rfcSeed(20)
	at := time.Unix(1_700_000_123, 0)
	for _, period := range []int{1, 15, 30, 60, 3600} {
		for _, digits := range []int{6, 7, 8} {
			p := Params{Kind: TOTP, Secret: secret, Algorithm: SHA1, Digits: digits, Period: period}
			code, until, err := Code(p, at)
			if err != nil {
				t.Fatalf("period %d digits %d: %v", period, digits, err)
			}
			// The TOTP code at t is the HOTP code of floor(t/period).
			h := Params{Kind: HOTP, Secret: secret, Algorithm: SHA1, Digits: digits, Counter: uint64(at.Unix()) / uint64(period)}
			want, _, _ := Code(h, at)
			if len(code) != digits || code != want {
				t.Errorf("period %d digits %d: %s, want %s", period, digits, code, want)
			}
			if !until.After(at) || until.Sub(at) > time.Duration(period)*time.Second || until.Unix()%int64(period) != 0 {
				t.Errorf("period %d: validUntil %v for %v", period, until, at)
			}
		}
	}
}

func TestCodeErrors(t *testing.T) {
	good := Default(TOTP)
	good.Secret = rfcSeed(20)
	tests := []struct {
		name string
		p    Params
		at   time.Time
		want error
	}{
		{"invalid params", Params{Kind: TOTP}, time.Unix(0, 0), ErrInvalidParams},
		{"before 1970", good, time.Unix(-1, 0), ErrTimeOutOfRange},
		{"far future", good, time.Unix(1<<63-10, 0), ErrTimeOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, until, err := Code(tt.p, tt.at)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if code != "" || !until.IsZero() {
				t.Errorf("got %q, %v with an error", code, until)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	totp := Default(TOTP)
	totp.Secret = rfcSeed(20)
	hotp := Default(HOTP)
	hotp.Secret = rfcSeed(20)
	hotp.Counter = 3 // RFC 4226: 969429, then 338314, 254676
	steam := Default(Steam)
	steam.Secret = rfcSeed(20)

	at := time.Unix(1_700_000_000, 0)
	codeAt := func(p Params, d time.Duration) string {
		c, _, err := Code(p, at.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := codeAt(totp, 0)
	prev := codeAt(totp, -30*time.Second)
	next2 := codeAt(totp, 60*time.Second)
	steamNow := codeAt(steam, 0)

	tests := []struct {
		name        string
		p           Params
		code        string
		skew        int
		wantOK      bool
		wantCounter uint64
		wantErr     error
	}{
		{"totp now", totp, now, 0, true, 1_700_000_000 / 30, nil},
		{"totp with a space", totp, now[:3] + " " + now[3:], 0, true, 1_700_000_000 / 30, nil},
		{"totp surrounding space", totp, "  " + now + "\n", 0, true, 1_700_000_000 / 30, nil},
		{"totp previous, no skew", totp, prev, 0, false, 0, nil},
		{"totp previous, skew 1", totp, prev, 1, true, 1_700_000_000/30 - 1, nil},
		{"totp two ahead, skew 1", totp, next2, 1, false, 0, nil},
		{"totp two ahead, skew 2", totp, next2, 2, true, 1_700_000_000/30 + 2, nil},
		{"totp wrong", totp, "000000", 1, false, 0, nil},
		{"totp too short", totp, "12345", 0, false, 0, ErrCodeFormat},
		{"totp letters", totp, "12a456", 0, false, 0, ErrCodeFormat},
		{"totp huge", totp, strings.Repeat("1", 100), 0, false, 0, ErrCodeFormat},
		{"totp empty", totp, "", 0, false, 0, ErrCodeFormat},
		{"hotp counter", hotp, "969429", 0, true, 3, nil},
		{"hotp ahead within skew", hotp, "254676", 2, true, 5, nil},
		{"hotp ahead beyond skew", hotp, "254676", 1, false, 0, nil},
		{"hotp behind", hotp, "359152", 5, false, 0, nil},
		{"steam", steam, steamNow, 0, true, 1_700_000_000 / 30, nil},
		{"steam lower case", steam, strings.ToLower(steamNow), 0, true, 1_700_000_000 / 30, nil},
		{"steam wrong alphabet", steam, "AAAAA", 0, false, 0, ErrCodeFormat},
		{"bad skew", totp, now, -1, false, 0, nil},
		{"invalid params", Params{}, now, 0, false, 0, ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok, err := VerifyCounter(tt.p, tt.code, at, tt.skew)
			if tt.name == "bad skew" {
				if err == nil {
					t.Fatal("no error for a negative skew")
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if ok != tt.wantOK || c != tt.wantCounter {
				t.Errorf("got (%d, %v), want (%d, %v)", c, ok, tt.wantCounter, tt.wantOK)
			}
			ok2, err2 := Verify(tt.p, tt.code, at, tt.skew)
			if ok2 != ok || !errors.Is(err2, tt.wantErr) {
				t.Errorf("Verify disagrees with VerifyCounter: %v, %v", ok2, err2)
			}
		})
	}
}

func TestVerifyEdges(t *testing.T) {
	// Skew before the first TOTP window and past the last HOTP counter must
	// neither wrap around nor loop forever.
	p := Default(TOTP)
	p.Secret = rfcSeed(20)
	code, _, _ := Code(p, time.Unix(5, 0))
	if ok, err := Verify(p, code, time.Unix(5, 0), MaxSkew); err != nil || !ok {
		t.Errorf("near 1970: %v, %v", ok, err)
	}
	h := Default(HOTP)
	h.Secret = rfcSeed(20)
	h.Counter = 1<<64 - 2
	code, _, _ = Code(h, time.Time{})
	if ok, err := Verify(h, code, time.Time{}, MaxSkew); err != nil || !ok {
		t.Errorf("last counters: %v, %v", ok, err)
	}
}

func BenchmarkCodeTOTP(b *testing.B) {
	for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
		b.Run(string(alg), func(b *testing.B) {
			p := Default(TOTP)
			p.Algorithm = alg
			p.Secret = rfcSeed(20)
			at := time.Unix(1_700_000_000, 0)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Code(p, at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifySkew1(b *testing.B) {
	p := Default(TOTP)
	p.Secret = rfcSeed(20)
	at := time.Unix(1_700_000_000, 0)
	code, _, _ := Code(p, at)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := Verify(p, code, at, 1); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// TestCodeAndNext checks the pair /code shows against two separate Code
// calls: the step after t's for time-based kinds, the next counter for
// HOTP, and no next code past the last counter.
func TestCodeAndNext(t *testing.T) {
	at := time.Unix(1_700_000_029, 0)
	totp256 := Default(TOTP)
	totp256.Algorithm, totp256.Digits, totp256.Period = SHA256, 8, 60
	last := Default(HOTP)
	last.Counter = 1<<64 - 1
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"totp", Default(TOTP)},
		{"totp sha256 8 digits 60 s", totp256},
		{"steam", Default(Steam)},
		{"hotp", Default(HOTP)},
		{"hotp last counter", last},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			p.Secret = rfcSeed(20)
			code, next, until, err := CodeAndNext(p, at)
			if err != nil {
				t.Fatal(err)
			}
			wantCode, wantUntil, _ := Code(p, at)
			var wantNext string
			switch {
			case p.Kind != HOTP:
				wantNext, _, _ = Code(p, wantUntil)
			case p.Counter != 1<<64-1:
				q := p
				q.Counter++
				wantNext, _, _ = Code(q, at)
			}
			if code != wantCode || next != wantNext || !until.Equal(wantUntil) {
				t.Errorf("CodeAndNext = %q, %q, %v; want %q, %q, %v", code, next, until, wantCode, wantNext, wantUntil)
			}
			if code == next {
				t.Errorf("code and next are both %q", code)
			}
		})
	}
	if _, _, _, err := CodeAndNext(Params{Kind: TOTP}, at); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("empty params: %v, want ErrInvalidParams", err)
	}
}
