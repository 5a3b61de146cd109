package transfer

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"

	"github.com/authbot/authbot/core/otp"
)

// Authenticator Pro (now Stratum) backups. Plain: JSON {"Authenticators":
// [{"Type", "Issuer", "Username", "Secret", "Algorithm", "Digits", "Period",
// "Counter", ...}], "Categories", ...} with Type 1 HOTP, 2 TOTP, 3 mOTP,
// 4 Steam, 5 Yandex and Algorithm 0 SHA1, 1 SHA256, 2 SHA512. Encrypted:
// "AUTHENTICATORPRO", 16-byte salt, 12-byte IV, AES-256-GCM ciphertext+tag,
// key Argon2id(password, salt, t=3, m=64 MiB, p=4). Legacy encrypted:
// "AuthenticatorPro", 20-byte salt, 16-byte IV, AES-256-CBC with PKCS#7
// padding, key PBKDF2-HMAC-SHA1(password, salt, 64,000 iterations). The
// costs are fixed by the format, not read from the file.

const (
	authProHeader       = "AUTHENTICATORPRO"
	authProLegacyHeader = "AuthenticatorPro"
	authProSaltSize     = 16
	authProArgonTime    = 3
	authProArgonMemory  = 64 * 1024 // KiB
	authProArgonThreads = 4
	authProLegacySalt   = 20
	authProLegacyIter   = 64_000
)

type authProEntry struct {
	Type      num `json:"Type"`
	Issuer    str `json:"Issuer"`
	Username  str `json:"Username"`
	Secret    str `json:"Secret"`
	Algorithm num `json:"Algorithm"`
	Digits    num `json:"Digits"`
	Period    num `json:"Period"`
	Counter   num `json:"Counter"`
}

func importAuthProJSON(top map[string]json.RawMessage, format string) (*Result, error) {
	list, err := decodeEntries(top["Authenticators"])
	if err != nil {
		return nil, err
	}
	c := newCollector(format)
	eachEntry(c, list, func(n int, e *authProEntry) {
		issuer, account := string(e.Issuer), string(e.Username)
		var k otp.Key
		k.Issuer, k.Account = issuer, account
		switch e.Type {
		case 1:
			k.Params.Kind = otp.HOTP
			if e.Counter < 0 {
				c.bad(n, issuer, account, "the counter is negative", Detail{ID: "counter_negative"})
				return
			}
			k.Params.Counter = uint64(e.Counter)
		case 2:
			k.Params.Kind = otp.TOTP
		case 3:
			c.bad(n, issuer, account, kindNotSupported("mOTP"), kindDetail("mOTP"))
			return
		case 4:
			k.Params.Kind = otp.Steam
		case 5:
			c.bad(n, issuer, account, kindNotSupported("Yandex"), kindDetail("Yandex"))
			return
		default:
			c.bad(n, issuer, account, fmt.Sprintf("unknown kind of code (%d)", e.Type))
			return
		}
		switch e.Algorithm {
		case 0:
			k.Params.Algorithm = otp.SHA1
		case 1:
			k.Params.Algorithm = otp.SHA256
		case 2:
			k.Params.Algorithm = otp.SHA512
		default:
			c.bad(n, issuer, account, fmt.Sprintf("unknown algorithm (%d)", e.Algorithm))
			return
		}
		secret, err := decodeSecret(string(e.Secret))
		if err != nil {
			c.bad(n, issuer, account, err.Error())
			return
		}
		k.Params.Secret = secret
		k.Params.Digits, k.Params.Period = e.Digits.int(), e.Period.int()
		c.add(n, k)
	})
	return c.result(), nil
}

func importAuthProEncrypted(ctx context.Context, data []byte, password string) (*Result, error) {
	body := data[len(authProHeader):]
	if len(body) < authProSaltSize+gcmNonceSize+gcmTagSize {
		return nil, corrupt("the Authenticator Pro backup is too short")
	}
	if password == "" {
		return nil, ErrPasswordRequired
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	salt, iv, sealed := body[:authProSaltSize], body[authProSaltSize:authProSaltSize+gcmNonceSize], body[authProSaltSize+gcmNonceSize:]
	key := argon2.IDKey([]byte(password), salt, authProArgonTime, authProArgonMemory, authProArgonThreads, aes256KeySize)
	plain, err := gcmOpen(key, iv, sealed)
	if errors.Is(err, errAuth) {
		return nil, ErrWrongPassword
	}
	if err != nil {
		return nil, corrupt("%v", err)
	}
	return authProDecrypted(plain, "Authenticator Pro (encrypted)")
}

func importAuthProLegacy(ctx context.Context, data []byte, password string) (*Result, error) {
	body := data[len(authProLegacyHeader):]
	if len(body) < authProLegacySalt+2*aes.BlockSize || (len(body)-authProLegacySalt)%aes.BlockSize != 0 {
		return nil, corrupt("the Authenticator Pro backup is not in the expected form")
	}
	if password == "" {
		return nil, ErrPasswordRequired
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	salt, iv, ct := body[:authProLegacySalt], body[authProLegacySalt:authProLegacySalt+aes.BlockSize], body[authProLegacySalt+aes.BlockSize:]
	key, err := pbkdf2Key(sha1New, password, salt, authProLegacyIter)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	// CBC has no authentication: bad padding or a non-JSON result is the
	// only sign of a wrong password.
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, ErrWrongPassword
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, ErrWrongPassword
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) == 0 || plain[0] != '{' {
		return nil, ErrWrongPassword
	}
	return authProDecrypted(plain, "Authenticator Pro (encrypted, old format)")
}

func authProDecrypted(plain []byte, format string) (*Result, error) {
	if err := checkJSON(plain); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(plain, &top); err != nil {
		return nil, corrupt("the decrypted backup is not a JSON object")
	}
	if _, ok := top["Authenticators"]; !ok {
		return nil, corrupt("the decrypted backup has no accounts list")
	}
	return importAuthProJSON(top, format)
}
