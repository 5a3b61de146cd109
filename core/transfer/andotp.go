package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// andOTP backups. Plain: a JSON array of {secret, issuer, label, digits,
// type, algorithm, period, counter, ...}. Encrypted ("new" format, andOTP
// 0.6.3 and later): 4-byte big-endian PBKDF2 iteration count, 12-byte salt,
// 12-byte nonce, AES-256-GCM ciphertext with its 16-byte tag at the end; the
// key is PBKDF2-HMAC-SHA1(password, salt, iterations, 256 bit). The old
// format is nonce, ciphertext and tag under SHA-256(password).

const (
	andOTPSaltSize = 12
	andOTPHeader   = 4 + andOTPSaltSize
	andOTPMinLen   = gcmNonceSize + gcmTagSize + 2 // old format holding at least "[]"
)

type andOTPEntry struct {
	Secret    str `json:"secret"`
	Issuer    str `json:"issuer"`
	Label     str `json:"label"`
	Digits    num `json:"digits"`
	Type      str `json:"type"`
	Algorithm str `json:"algorithm"`
	Period    num `json:"period"`
	Counter   num `json:"counter"`
}

func importAndOTPPlain(data []byte) (*Result, error) {
	list, err := decodeEntries(data)
	if err != nil {
		return nil, err
	}
	return andOTPEntries(list, "andOTP")
}

func importAndOTPEncrypted(ctx context.Context, data []byte, password string) (*Result, error) {
	if password == "" {
		return nil, withReason(ErrPasswordRequired.Error()+" (if this is an andOTP backup)", ErrPasswordRequired).with("andotp_password")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// New format first, when its header is plausible.
	iter := int64(binary.BigEndian.Uint32(data))
	if iter >= 1 && iter <= maxPBKDF2Iter && len(data) >= andOTPHeader+andOTPMinLen {
		key, err := pbkdf2Key(sha1New, password, data[4:andOTPHeader], iter)
		if err != nil {
			return nil, err
		}
		body := data[andOTPHeader:]
		if plain, err := gcmOpen(key, body[:gcmNonceSize], body[gcmNonceSize:]); err == nil {
			return andOTPDecrypted(plain, "andOTP (encrypted)")
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte(password))
	if plain, err := gcmOpen(key[:], data[:gcmNonceSize], data[gcmNonceSize:]); err == nil {
		return andOTPDecrypted(plain, "andOTP (encrypted, old format)")
	}
	// No marker tells an andOTP file from any other binary: say both.
	return nil, withReason(ErrWrongPassword.Error()+" (or this is not an andOTP backup)", ErrWrongPassword).with("andotp_wrong")
}

func andOTPDecrypted(plain []byte, format string) (*Result, error) {
	if err := checkJSON(plain); err != nil {
		return nil, err
	}
	list, err := decodeEntries(plain)
	if err != nil {
		return nil, err
	}
	return andOTPEntries(list, format)
}

func andOTPEntries(list []json.RawMessage, format string) (*Result, error) {
	c := newCollector(format)
	eachEntry(c, list, func(n int, e *andOTPEntry) {
		issuer, account := string(e.Issuer), string(e.Label)
		if issuer == "" {
			// Old andOTP versions had no issuer field and wrote
			// "Issuer - account" or "Issuer:account" into the label.
			for _, sep := range []string{" - ", ":"} {
				if a, b, ok := strings.Cut(account, sep); ok {
					issuer, account = strings.TrimSpace(a), strings.TrimSpace(b)
					break
				}
			}
		}
		var k otp.Key
		k.Issuer, k.Account = issuer, account
		kind, ok := parseKind(string(e.Type))
		if !ok {
			c.bad(n, issuer, account, kindNotSupported(string(e.Type)), kindDetail(string(e.Type)))
			return
		}
		k.Params.Kind = kind
		c.addFields(n, issuer, account, k, fields{secret: string(e.Secret), algorithm: string(e.Algorithm),
			digits: e.Digits, period: e.Period, counter: e.Counter})
	})
	return c.result(), nil
}
