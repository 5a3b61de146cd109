package core

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/authbot/authbot/core/otp"
)

// The account index is read on every /code, so it has a compact binary
// form instead of JSON: decoding 50 entries from JSON took ~100 µs and 300
// allocations, this takes a few µs and two (the fields are substrings of
// one string copied from the plaintext).
//
// Layout (version 1): version byte, uvarint entry count, then per entry the
// strings id, label, issuer, user, kind, fingerprint (each uvarint length +
// bytes) and the uvarints flags (bit 0: confirmed), recovery codes,
// recovery codes left.
const indexVersion = 1

// maxIndexEntries bounds what a decoder allocates for a damaged count.
const maxIndexEntries = 1 << 20

func encodeIndex(entries []indexEntry) []byte {
	n := 16
	for i := range entries {
		e := &entries[i]
		n += len(e.ID) + len(e.Label) + len(e.Issuer) + len(e.User) + len(e.Kind) + len(e.Fingerprint) + 9*binary.MaxVarintLen16
	}
	b := make([]byte, 0, n)
	b = append(b, indexVersion)
	b = binary.AppendUvarint(b, uint64(len(entries)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for i := range entries {
		e := &entries[i]
		str(e.ID)
		str(e.Label)
		str(e.Issuer)
		str(e.User)
		str(string(e.Kind))
		str(e.Fingerprint)
		var flags uint64
		if e.Confirmed {
			flags |= 1
		}
		b = binary.AppendUvarint(b, flags)
		b = binary.AppendUvarint(b, uint64(e.RecoveryCodes))
		b = binary.AppendUvarint(b, uint64(e.RecoveryLeft))
	}
	return b
}

var errIndexFormat = errors.New("malformed account index")

func decodeIndex(plain []byte) ([]indexEntry, error) {
	if len(plain) == 0 || plain[0] != indexVersion {
		return nil, fmt.Errorf("%w: unknown version", errIndexFormat)
	}
	s := string(plain) // one copy; every field below is a substring of it
	pos := 1
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(plain[pos:])
		if n <= 0 {
			return 0, errIndexFormat
		}
		pos += n
		return v, nil
	}
	str := func() (string, error) {
		l, err := uv()
		if err != nil || l > uint64(len(plain)-pos) {
			return "", errIndexFormat
		}
		out := s[pos : pos+int(l)]
		pos += int(l)
		return out, nil
	}
	count, err := uv()
	if err != nil || count > maxIndexEntries || count > uint64(len(plain)) {
		return nil, errIndexFormat
	}
	entries := make([]indexEntry, count)
	for i := range entries {
		e := &entries[i]
		var kind string
		for _, dst := range []*string{&e.ID, &e.Label, &e.Issuer, &e.User, &kind, &e.Fingerprint} {
			if *dst, err = str(); err != nil {
				return nil, err
			}
		}
		e.Kind = otp.Kind(kind)
		var nums [3]uint64
		for j := range nums {
			if nums[j], err = uv(); err != nil {
				return nil, err
			}
		}
		if nums[1] > maxRecoveryCodes || nums[2] > nums[1] {
			return nil, errIndexFormat
		}
		e.Confirmed = nums[0]&1 != 0
		e.RecoveryCodes, e.RecoveryLeft = int(nums[1]), int(nums[2])
	}
	if pos != len(plain) {
		return nil, fmt.Errorf("%w: trailing bytes", errIndexFormat)
	}
	return entries, nil
}

// maxRecoveryCodes bounds the recovery codes kept per account.
const maxRecoveryCodes = 1000
