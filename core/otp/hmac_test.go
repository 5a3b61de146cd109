package otp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"testing"
	"time"
)

// stdHMAC is the reference: crypto/hmac over the big-endian counter.
func stdHMAC(alg Algorithm, key []byte, counter uint64) []byte {
	h := map[Algorithm]func() hash.Hash{SHA1: sha1.New, SHA256: sha256.New, SHA512: sha512.New}[alg]
	m := hmac.New(h, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m.Write(msg[:])
	return m.Sum(nil)
}

// TestCodeVectorsAllDigits checks every digit count against the RFC 4226
// Appendix D truncated values (HOTP, SHA1) and the RFC 6238 Appendix B
// codes (TOTP, SHA1/256/512): a code of n digits is the last n digits of
// the 8-digit one.
func TestCodeVectorsAllDigits(t *testing.T) {
	hotp := []uint32{1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922, 82162583, 673399871, 645520489}
	for c, v := range hotp {
		want8 := fmt.Sprintf("%08d", v%100_000_000)
		for d := MinDigits; d <= MaxDigits; d++ {
			p := Default(HOTP)
			p.Secret, p.Counter, p.Digits = rfcSeed(20), uint64(c), d
			got, _, err := Code(p, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if want := want8[8-d:]; got != want {
				t.Errorf("hotp counter %d, %d digits: %s, want %s", c, d, got, want)
			}
		}
	}
	totp := rfc6238
	seed := map[Algorithm]int{SHA1: 20, SHA256: 32, SHA512: 64}
	for _, tt := range totp {
		for d := MinDigits; d <= MaxDigits; d++ {
			p := Params{Kind: TOTP, Secret: rfcSeed(seed[tt.alg]), Algorithm: tt.alg, Digits: d, Period: 30}
			got, _, err := Code(p, time.Unix(tt.unix, 0))
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want[8-d:]; got != want {
				t.Errorf("totp %s at %d, %d digits: %s, want %s", tt.alg, tt.unix, d, got, want)
			}
		}
	}
}

// TestHMACKeyLengths compares the stack HMAC with crypto/hmac around the
// block sizes, where a longer key is hashed first (RFC 2104).
func TestHMACKeyLengths(t *testing.T) {
	for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
		for _, n := range []int{0, 1, 19, 20, 32, 63, 64, 65, 127, 128, 129, 200} {
			key := bytes.Repeat([]byte{0xa5, 0x17, 0x3c}, 70)[:n]
			for _, c := range []uint64{0, 1, 1 << 32, 1<<64 - 1} {
				var hk hmacKey
				hk.init(alg, key)
				var out [sha512.Size]byte
				if got, want := hk.sumCounter(c, &out), stdHMAC(alg, key, c); !bytes.Equal(got, want) {
					t.Errorf("%s key %d bytes counter %d: %x, want %x", alg, n, c, got, want)
				}
			}
		}
	}
}

// TestCodeAllocs pins the point of the stack HMAC: only the returned
// strings are allocated.
func TestCodeAllocs(t *testing.T) {
	for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
		p := Default(TOTP)
		p.Algorithm, p.Secret = alg, rfcSeed(20)
		at := time.Unix(1_700_000_000, 0)
		if n := testing.AllocsPerRun(100, func() { _, _, _ = Code(p, at) }); n > 1 {
			t.Errorf("%s: Code allocates %v times, want at most 1 (the code)", alg, n)
		}
		if n := testing.AllocsPerRun(100, func() { _, _, _, _ = CodeAndNext(p, at) }); n > 2 {
			t.Errorf("%s: CodeAndNext allocates %v times, want at most 2 (the codes)", alg, n)
		}
	}
}

// FuzzHMAC compares the stack HMAC with crypto/hmac for keys of 0..200
// bytes and any counter, for each algorithm.
func FuzzHMAC(f *testing.F) {
	f.Add([]byte("12345678901234567890"), uint64(0), uint8(0))
	f.Add(bytes.Repeat([]byte{1}, 65), uint64(1<<63), uint8(1))
	f.Add(bytes.Repeat([]byte{2}, 129), uint64(1<<64-1), uint8(2))
	f.Fuzz(func(t *testing.T, key []byte, counter uint64, a uint8) {
		if len(key) > 200 {
			key = key[:200]
		}
		alg := []Algorithm{SHA1, SHA256, SHA512}[a%3]
		var hk hmacKey
		hk.init(alg, key)
		var out [sha512.Size]byte
		if got, want := hk.sumCounter(counter, &out), stdHMAC(alg, key, counter); !bytes.Equal(got, want) {
			t.Fatalf("%s key %x counter %d: %x, want %x", alg, key, counter, got, want)
		}
	})
}
