package core

import (
	"fmt"

	"github.com/authbot/authbot/core/otp"
)

// Layout of the account index (version 1): version byte, entry count, then
// per entry the strings id, label, issuer, user, kind, fingerprint and the
// numbers flags (bit 0: confirmed), recovery codes, recovery codes left.
// See codec.go for why it is binary.
const indexVersion = 1

// maxRecoveryCodes bounds the recovery codes kept per account.
const maxRecoveryCodes = 1000

func encodeIndex(entries []indexEntry) []byte {
	n := 16
	for i := range entries {
		e := &entries[i]
		n += len(e.ID) + len(e.Label) + len(e.Issuer) + len(e.User) + len(e.Kind) + len(e.Fingerprint) + 16
	}
	e := encoder{b: make([]byte, 0, n)}
	e.byte(indexVersion)
	e.uint(uint64(len(entries)))
	for i := range entries {
		x := &entries[i]
		e.str(x.ID)
		e.str(x.Label)
		e.str(x.Issuer)
		e.str(x.User)
		e.str(string(x.Kind))
		e.str(x.Fingerprint)
		var flags uint64
		if x.Confirmed {
			flags |= 1
		}
		e.uint(flags)
		e.uint(uint64(x.RecoveryCodes))
		e.uint(uint64(x.RecoveryLeft))
	}
	return e.b
}

func decodeIndex(plain []byte) ([]indexEntry, error) {
	d := newDecoder(plain)
	if v := d.byte(); v != indexVersion {
		return nil, fmt.Errorf("%w: account index version %d", errRecordFormat, v)
	}
	// Each entry takes at least 9 bytes: a damaged count cannot make us
	// allocate more than the record could hold.
	entries := make([]indexEntry, d.small(len(plain)/9))
	for i := range entries {
		x := &entries[i]
		x.ID, x.Label, x.Issuer, x.User = d.str(), d.str(), d.str(), d.str()
		x.Kind = otp.Kind(d.str())
		x.Fingerprint = d.str()
		x.Confirmed = d.uint()&1 != 0
		x.RecoveryCodes = d.small(maxRecoveryCodes)
		x.RecoveryLeft = d.small(x.RecoveryCodes)
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return entries, nil
}

// Layout of an account record (version 1): version byte, the strings id,
// label, issuer, user, kind, the secret bytes, the string algorithm, the
// numbers digits, period, counter, the times added and confirmed, and the
// recovery codes (count, then code string and used time each).
const accountVersion = 1

func encodeAccount(a *Account) []byte {
	e := encoder{b: make([]byte, 0, 128+len(a.Label)+len(a.Issuer)+len(a.User)+len(a.OTP.Secret)+24*len(a.RecoveryCodes))}
	e.byte(accountVersion)
	e.str(a.ID)
	e.str(a.Label)
	e.str(a.Issuer)
	e.str(a.User)
	e.str(string(a.OTP.Kind))
	e.bytes(a.OTP.Secret)
	e.str(string(a.OTP.Algorithm))
	e.uint(uint64(a.OTP.Digits))
	e.uint(uint64(a.OTP.Period))
	e.uint(a.OTP.Counter)
	e.time(a.Added)
	e.time(a.Confirmed)
	e.uint(uint64(len(a.RecoveryCodes)))
	for _, c := range a.RecoveryCodes {
		e.str(c.Code)
		e.time(c.Used)
	}
	return e.b
}

func decodeAccount(plain []byte, a *Account) error {
	d := newDecoder(plain)
	if v := d.byte(); v != accountVersion {
		return fmt.Errorf("%w: account version %d", errRecordFormat, v)
	}
	a.ID, a.Label, a.Issuer, a.User = d.str(), d.str(), d.str(), d.str()
	a.OTP.Kind = otp.Kind(d.str())
	a.OTP.Secret = d.raw() // plain is ours alone: no copy
	a.OTP.Algorithm = otp.Algorithm(d.str())
	a.OTP.Digits = d.small(1 << 8)
	a.OTP.Period = d.small(1 << 31)
	a.OTP.Counter = d.uint()
	a.Added, a.Confirmed = d.time(), d.time()
	if n := d.small(maxRecoveryCodes); n > 0 {
		a.RecoveryCodes = make([]RecoveryCode, n)
		for i := range a.RecoveryCodes {
			a.RecoveryCodes[i] = RecoveryCode{Code: d.str(), Used: d.time()}
		}
	}
	return d.done()
}
