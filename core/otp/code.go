package otp

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
)

// MaxSkew bounds how many steps Verify looks around the current one; each
// step is one HMAC, and a wide window makes guessing easier.
const MaxSkew = 10

var (
	// ErrTimeOutOfRange is returned for a time before 1970, where no TOTP
	// counter exists, or so far ahead that the window end overflows.
	ErrTimeOutOfRange = errors.New("time out of range for one-time passwords")
	// ErrCodeFormat is returned by Verify for text that cannot be a code of
	// these parameters at all: wrong length or characters. A person should
	// be told how a code looks rather than "wrong code".
	ErrCodeFormat = errors.New("not a code of the expected length and characters")
)

// Code returns the code of p at t. For TOTP and Steam, validUntil is the
// end of t's time step; for HOTP the code is that of p.Counter and
// validUntil is zero (the caller advances the counter once the code is
// used). Errors: a *ParamsError from Validate, or ErrTimeOutOfRange.
func Code(p Params, t time.Time) (code string, validUntil time.Time, err error) {
	if err := p.Validate(); err != nil {
		return "", time.Time{}, err
	}
	counter, validUntil, err := p.counterAt(t)
	if err != nil {
		return "", time.Time{}, err
	}
	var hk hmacKey
	hk.init(p.Algorithm, p.Secret)
	defer hk.wipe()
	return p.generate(&hk, counter), validUntil, nil
}

// CodeAndNext is Code together with the code of the step after t's (for
// HOTP: of p.Counter+1), computed with one keyed HMAC: /code shows both.
// next is empty when no next step exists (the last counter, or a time past
// the end of the representable range).
func CodeAndNext(p Params, t time.Time) (code, next string, validUntil time.Time, err error) {
	if err := p.Validate(); err != nil {
		return "", "", time.Time{}, err
	}
	counter, validUntil, err := p.counterAt(t)
	if err != nil {
		return "", "", time.Time{}, err
	}
	var hk hmacKey
	hk.init(p.Algorithm, p.Secret)
	defer hk.wipe()
	code = p.generate(&hk, counter)
	if counter == math.MaxUint64 {
		return code, "", validUntil, nil
	}
	if p.Kind != HOTP {
		if _, _, err := p.counterAt(validUntil); err != nil {
			return code, "", validUntil, nil
		}
	}
	return code, p.generate(&hk, counter+1), validUntil, nil
}

// Verify reports whether code is a valid code of p at t, allowing skew
// steps of clock drift either way (TOTP, Steam) or up to skew codes ahead of
// p.Counter (HOTP, whose tokens run ahead when pressed without use).
// Spaces inside the code ("123 456") are ignored and Steam codes are
// compared without regard to case. The comparison is constant-time.
// Errors: a *ParamsError, ErrTimeOutOfRange, or ErrCodeFormat.
func Verify(p Params, code string, t time.Time, skew int) (matched bool, err error) {
	_, matched, err = VerifyCounter(p, code, t, skew)
	return matched, err
}

// VerifyCounter is Verify that also returns the counter that matched, so
// the caller can refuse a code used before (TOTP replay) or move an HOTP
// counter past it.
func VerifyCounter(p Params, code string, t time.Time, skew int) (counter uint64, matched bool, err error) {
	if err := p.Validate(); err != nil {
		return 0, false, err
	}
	if skew < 0 || skew > MaxSkew {
		return 0, false, fmt.Errorf("verify: skew %d outside 0..%d", skew, MaxSkew)
	}
	want, ok := p.normalizeCode(code)
	if !ok {
		return 0, false, ErrCodeFormat
	}
	now, _, err := p.counterAt(t)
	if err != nil {
		return 0, false, err
	}

	// Candidate counters: [now-skew, now+skew] for time-based codes (none
	// before 0), [now, now+skew] for HOTP (none past the last counter).
	first, last := now, now+uint64(skew)
	if p.Kind == HOTP {
		if now > math.MaxUint64-uint64(skew) {
			last = math.MaxUint64
		}
	} else if now >= uint64(skew) {
		first = now - uint64(skew)
	} else {
		first = 0
	}

	var hk hmacKey
	hk.init(p.Algorithm, p.Secret)
	defer hk.wipe()
	// Every candidate is computed and compared, matched or not, so the time
	// taken does not tell which window matched.
	for c := first; ; c++ {
		got := p.generate(&hk, c)
		if subtle.ConstantTimeCompare([]byte(got), want) == 1 && !matched {
			counter, matched = c, true
		}
		if c == last {
			break
		}
	}
	return counter, matched, nil
}

// counterAt returns the counter the code at t uses and, for time-based
// kinds, when its step ends.
func (p Params) counterAt(t time.Time) (uint64, time.Time, error) {
	if p.Kind == HOTP {
		return p.Counter, time.Time{}, nil
	}
	period := int64(p.Period)
	u := t.Unix()
	if u < 0 || u > math.MaxInt64-period {
		return 0, time.Time{}, ErrTimeOutOfRange
	}
	c := u / period
	return uint64(c), time.Unix((c+1)*period, 0).In(t.Location()), nil
}

// generate computes the code of counter (RFC 4226 section 5.3; Steam Guard
// writes the same 31-bit value in its alphabet, least significant first)
// from p's secret bytes as they are, keyed into hk. The codes used to go
// through pquerna/otp, which takes the key as base32 text (an immutable
// copy of the secret per code); RFC 4226 is an HMAC and a truncation, so
// it is done directly, as rsc/2fa does. The TOTP counter is worked out by
// counterAt in integers.
func (p Params) generate(hk *hmacKey, counter uint64) string {
	var buf [sha512.Size]byte
	sum := hk.sumCounter(counter, &buf)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	var out [MaxDigits]byte
	if p.Kind == Steam {
		for i := range p.Digits {
			out[i] = steamAlphabet[v%uint32(len(steamAlphabet))]
			v /= uint32(len(steamAlphabet))
		}
		clear(buf[:])
		return string(out[:p.Digits])
	}
	for i := p.Digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	clear(buf[:])
	return string(out[:p.Digits])
}

// steamAlphabet is the character set of Steam Guard codes.
const steamAlphabet = "23456789BCDFGHJKMNPQRTVWXY"

// normalizeCode turns what a person typed into the code's canonical bytes:
// whitespace dropped, Steam upper-cased; ok is false when the result cannot
// be a code of p at all.
func (p Params) normalizeCode(code string) ([]byte, bool) {
	if len(code) > 64 {
		return nil, false
	}
	out := make([]byte, 0, p.Digits)
	for _, r := range code {
		switch {
		case unicode.IsSpace(r):
			continue
		case p.Kind == Steam:
			r = unicode.ToUpper(r)
			if r > unicode.MaxASCII || !strings.ContainsRune(steamAlphabet, r) {
				return nil, false
			}
		case r < '0' || r > '9':
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, len(out) == p.Digits
}
