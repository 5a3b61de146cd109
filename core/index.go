package core

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/authbot/authbot/core/otp"
)

// Layout of the account index.
//
// Version 3 (written now): as version 2, but the strings label, issuer and
// user are each either spelled out or a reference to the same field of an
// earlier entry (see strRef). One person's accounts mostly repeat a few
// user names (the same e-mail address at every service): spelled out they
// were a third of the index, and 50 accounts' index took two pairs of 2
// KiB pages where one pair and a half now do (issue 21).
//
// Version 2 (still read): version byte, entry count, then per entry a
// flags number (bit 0: confirmed; bit 1: the id is 16 lower-case hex
// digits, stored as its 8 bytes; bit 2: the fingerprint is canonical
// base64url of 16 bytes, stored as those bytes; bits 3-4: the kind, 0 for
// one spelled out below), the id (8 bytes, or a string), the strings label,
// issuer, user, the kind's string when its code is 0, the fingerprint (16
// bytes, or a string) and the numbers recovery codes, recovery codes left.
// The ids and fingerprints of authbot's own making take half the bytes of
// their text, and kinds a byte less than their name: a fifth of the index.
// The sealing around each version is the same.
//
// Version 1 (still read): version byte, entry count, then per entry the
// strings id, label, issuer, user, kind, fingerprint and the numbers flags
// (bit 0: confirmed), recovery codes, recovery codes left.
//
// See codec.go for why it is binary.
const (
	indexV1      = 1
	indexV2      = 2
	indexVersion = 3
)

const (
	entryConfirmed = 1 << 0
	entryHexID     = 1 << 1
	entryRawFP     = 1 << 2
	entryKindShift = 3
)

// maxRecoveryCodes bounds the recovery codes kept per account.
const maxRecoveryCodes = 1000

// Kinds and algorithms as small codes; 0 means "spelled out".
var (
	kindCodes = []otp.Kind{1: otp.TOTP, 2: otp.HOTP, 3: otp.Steam}
	algCodes  = []otp.Algorithm{1: otp.SHA1, 2: otp.SHA256, 3: otp.SHA512}
)

func kindCode(k otp.Kind) uint64 {
	for i, c := range kindCodes {
		if i > 0 && c == k {
			return uint64(i)
		}
	}
	return 0
}

func algCode(a otp.Algorithm) uint64 {
	for i, c := range algCodes {
		if i > 0 && c == a {
			return uint64(i)
		}
	}
	return 0
}

// hexID reports whether id is 16 lower-case hex digits (newID's form), and
// returns its bytes.
func hexID(id string) (b [8]byte, ok bool) {
	if len(id) != 16 {
		return b, false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return b, false
		}
	}
	_, err := hex.Decode(b[:], []byte(id))
	return b, err == nil
}

// rawFP reports whether fp is canonical unpadded base64url of 16 bytes
// (seal.OpaqueID's form), and returns them.
func rawFP(fp string) (b [16]byte, ok bool) {
	if len(fp) != 22 {
		return b, false
	}
	n, err := base64.RawURLEncoding.Decode(b[:], []byte(fp))
	return b, err == nil && n == 16 && base64.RawURLEncoding.EncodeToString(b[:]) == fp
}

func encodeIndex(entries []indexEntry) []byte {
	n := 16
	for i := range entries {
		e := &entries[i]
		n += len(e.ID) + len(e.Label) + len(e.Issuer) + len(e.User) + len(e.Kind) + len(e.Fingerprint) + 16
	}
	e := encoder{b: make([]byte, 0, n)}
	e.byte(indexVersion)
	e.uint(uint64(len(entries)))
	var refs stringRefs
	for i := range entries {
		x := &entries[i]
		id, idOK := hexID(x.ID)
		fp, fpOK := rawFP(x.Fingerprint)
		kc := kindCode(x.Kind)
		flags := kc << entryKindShift
		if x.Confirmed {
			flags |= entryConfirmed
		}
		if idOK {
			flags |= entryHexID
		}
		if fpOK {
			flags |= entryRawFP
		}
		e.uint(flags)
		if idOK {
			e.b = append(e.b, id[:]...)
		} else {
			e.str(x.ID)
		}
		refs.put(&e, fieldLabel, x.Label, i)
		refs.put(&e, fieldIssuer, x.Issuer, i)
		refs.put(&e, fieldUser, x.User, i)
		if kc == 0 {
			e.str(string(x.Kind))
		}
		if fpOK {
			e.b = append(e.b, fp[:]...)
		} else {
			e.str(x.Fingerprint)
		}
		e.uint(uint64(x.RecoveryCodes))
		e.uint(uint64(x.RecoveryLeft))
	}
	return e.b
}

func decodeIndex(plain []byte) ([]indexEntry, error) {
	d := newDecoder(plain)
	v := d.byte()
	if v != indexVersion && v != indexV2 && v != indexV1 {
		return nil, fmt.Errorf("%w: account index version %d", errRecordFormat, v)
	}
	// Each entry takes at least 9 bytes: a damaged count cannot make us
	// allocate more than the record could hold.
	entries := make([]indexEntry, d.small(len(plain)/9))
	for i := range entries {
		x := &entries[i]
		if v == indexV1 {
			x.ID, x.Label, x.Issuer, x.User = d.str(), d.str(), d.str(), d.str()
			x.Kind = otp.Kind(d.str())
			x.Fingerprint = d.str()
			x.Confirmed = d.uint()&1 != 0
		} else {
			flags := d.uint()
			x.Confirmed = flags&entryConfirmed != 0
			if flags&entryHexID != 0 {
				x.ID = hex.EncodeToString(d.fixed(8))
			} else {
				x.ID = d.str()
			}
			if v == indexV2 {
				x.Label, x.Issuer, x.User = d.str(), d.str(), d.str()
			} else {
				x.Label = d.strRef(entries[:i], fieldLabel)
				x.Issuer = d.strRef(entries[:i], fieldIssuer)
				x.User = d.strRef(entries[:i], fieldUser)
			}
			x.Kind = d.kind(flags >> entryKindShift)
			if flags&entryRawFP != 0 {
				x.Fingerprint = base64.RawURLEncoding.EncodeToString(d.fixed(16))
			} else {
				x.Fingerprint = d.str()
			}
			if flags>>(entryKindShift+2) != 0 {
				d.fail() // unknown flags: from a newer version, do not guess
			}
		}
		x.RecoveryCodes = d.small(maxRecoveryCodes)
		x.RecoveryLeft = d.small(x.RecoveryCodes)
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return entries, nil
}

// The string fields of an index entry that version 3 may refer back to.
const (
	fieldLabel = iota
	fieldIssuer
	fieldUser
	numRefFields
)

func (x *indexEntry) field(f int) string {
	switch f {
	case fieldLabel:
		return x.Label
	case fieldIssuer:
		return x.Issuer
	}
	return x.User
}

// stringRefs remembers, per field, the last entry that held each string,
// for encodeIndex.
type stringRefs [numRefFields]map[string]int

// put appends field f of entry i, whose value is s: a uvarint h, then for
// even h the h/2 bytes of s, while an odd h says s is the same field's
// value h/2 entries back. The nearest earlier entry is referred to, so a
// string repeated from one entry to the next takes one byte, and so does
// one last seen up to 63 entries back. The empty string is always spelled
// out (one byte either way).
func (r *stringRefs) put(e *encoder, f int, s string, i int) {
	if s == "" {
		e.uint(0)
		return
	}
	if r[f] == nil {
		r[f] = map[string]int{}
	}
	if last, ok := r[f][s]; ok {
		e.uint(uint64(i-last)<<1 | 1)
	} else {
		e.uint(uint64(len(s)) << 1)
		e.b = append(e.b, s...)
	}
	r[f][s] = i
}

// strRef reads what stringRefs.put wrote for field f of the entry after
// prev (the entries decoded so far). A reference shares the earlier
// entry's string: no copy.
func (d *decoder) strRef(prev []indexEntry, f int) string {
	h := d.uint()
	if h&1 == 0 {
		n := h >> 1
		if d.err == nil && n > uint64(len(d.b)-d.pos) {
			d.fail()
		}
		if d.err != nil {
			return ""
		}
		d.pos += int(n)
		return d.s[d.pos-int(n) : d.pos]
	}
	back := h >> 1
	if back == 0 || back > uint64(len(prev)) {
		d.fail()
		return ""
	}
	s := prev[len(prev)-int(back)].field(f)
	if s == "" {
		d.fail() // put spells the empty string out: one form per record
	}
	return s
}

// Layout of an account record.
//
// Version 2 (written now): version byte, a flags number (bits 0-1: the
// kind, bits 2-3: the algorithm, 0 for one spelled out), the strings label,
// issuer, user, the kind's string when its code is 0, the secret bytes, the
// algorithm's string when its code is 0, the numbers digits, period,
// counter, the times added and confirmed, and the recovery codes (count,
// then code string and used time each). The id is not stored: it is the
// record's id, which the associated data already binds (a record moved to
// another id does not open), so the caller supplies it.
//
// Version 1 (still read): version byte, the strings id, label, issuer,
// user, kind, the secret bytes, the string algorithm, then as version 2
// from digits on.
const (
	accountV1      = 1
	accountVersion = 2
)

func encodeAccount(a *Account) []byte {
	e := encoder{b: make([]byte, 0, 128+len(a.Label)+len(a.Issuer)+len(a.User)+len(a.OTP.Secret)+24*len(a.RecoveryCodes))}
	e.byte(accountVersion)
	kc, ac := kindCode(a.OTP.Kind), algCode(a.OTP.Algorithm)
	e.uint(kc | ac<<2)
	e.str(a.Label)
	e.str(a.Issuer)
	e.str(a.User)
	if kc == 0 {
		e.str(string(a.OTP.Kind))
	}
	e.bytes(a.OTP.Secret)
	if ac == 0 {
		e.str(string(a.OTP.Algorithm))
	}
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

// decodeAccount decodes the record stored under id into a. A version 1
// record carries its id itself, which must then be id.
func decodeAccount(plain []byte, id string, a *Account) error {
	return decodeAccountWith(newDecoder(plain), id, a)
}

// decodeAccountOTP is decodeAccount for /code: the whole record is read
// and checked the same way, but only a.ID and a.OTP are filled in, the
// secret inside plain, and no string is copied (the names a code is shown
// with come from the index, which holds the same ones), so it allocates
// nothing.
func decodeAccountOTP(plain []byte, id string, a *Account) error {
	return decodeAccountWith(newSkipDecoder(plain), id, a)
}

func decodeAccountWith(d *decoder, id string, a *Account) error {
	switch v := d.byte(); v {
	case accountV1:
		if !d.strIs(id) {
			d.fail()
		}
		a.ID = id
		a.Label, a.Issuer, a.User = d.str(), d.str(), d.str()
		a.OTP.Kind = otp.Kind(d.name())
		a.OTP.Secret = d.raw() // plain is ours alone: no copy
		a.OTP.Algorithm = otp.Algorithm(d.name())
	case accountVersion:
		a.ID = id
		flags := d.uint()
		if flags>>4 != 0 {
			d.fail() // unknown flags: from a newer version, do not guess
		}
		a.Label, a.Issuer, a.User = d.str(), d.str(), d.str()
		a.OTP.Kind = d.kind(flags & 3)
		a.OTP.Secret = d.raw()
		if ac := (flags >> 2) & 3; ac != 0 {
			a.OTP.Algorithm = algCodes[ac]
		} else {
			a.OTP.Algorithm = otp.Algorithm(d.name())
		}
	default:
		return fmt.Errorf("%w: account version %d", errRecordFormat, v)
	}
	a.OTP.Digits = d.small(1 << 8)
	a.OTP.Period = d.small(1 << 31)
	a.OTP.Counter = d.uint()
	a.Added, a.Confirmed = d.time(), d.time()
	if n := d.small(maxRecoveryCodes); n > 0 && d.skip {
		for range n {
			d.str()
			d.time()
		}
	} else if n > 0 {
		a.RecoveryCodes = make([]RecoveryCode, n)
		for i := range a.RecoveryCodes {
			a.RecoveryCodes[i] = RecoveryCode{Code: d.str(), Used: d.time()}
		}
	}
	return d.done()
}
