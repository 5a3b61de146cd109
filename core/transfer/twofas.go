package transfer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// 2FAS backup (.2fas): {"schemaVersion": N, "services": [...]} or, when
// protected, "servicesEncrypted": "b64(ciphertext+tag):b64(salt):b64(iv)"
// with the key PBKDF2-HMAC-SHA256(password, salt, 10,000 iterations, 256 bit)
// and AES-GCM; the plaintext is the JSON array of services.

const twoFASIterations = 10_000

type twoFASService struct {
	Name   str `json:"name"`
	Secret str `json:"secret"`
	OTP    struct {
		Label     str `json:"label"`
		Account   str `json:"account"`
		Issuer    str `json:"issuer"`
		Digits    num `json:"digits"`
		Period    num `json:"period"`
		Algorithm str `json:"algorithm"`
		TokenType str `json:"tokenType"`
		Counter   num `json:"counter"`
	} `json:"otp"`
}

func import2FAS(ctx context.Context, top map[string]json.RawMessage, password string) (*Result, error) {
	var enc string
	if raw, ok := top["servicesEncrypted"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &enc); err != nil {
			return nil, corrupt("the encrypted 2FAS data is not a string")
		}
	}
	if enc == "" {
		list, err := decodeEntries(top["services"])
		if err != nil {
			return nil, err
		}
		return twoFASEntries(list, "2FAS")
	}
	parts := strings.Split(enc, ":")
	if len(parts) != 3 {
		return nil, corrupt("the encrypted 2FAS data has %d parts instead of 3", len(parts))
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, corrupt("the encrypted 2FAS data is not valid base64")
		}
		raw[i] = b
	}
	sealed, salt, iv := raw[0], raw[1], raw[2]
	if len(iv) != gcmNonceSize || len(sealed) < gcmTagSize || len(salt) == 0 {
		return nil, corrupt("the encrypted 2FAS data is not in the expected form")
	}
	if password == "" {
		return nil, ErrPasswordRequired
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key, err := pbkdf2Key(sha256New, password, salt, twoFASIterations)
	if err != nil {
		return nil, err
	}
	plain, err := gcmOpen(key, iv, sealed)
	if errors.Is(err, errAuth) {
		return nil, ErrWrongPassword
	}
	if err != nil {
		return nil, corrupt("%v", err)
	}
	if err := checkJSON(plain); err != nil {
		return nil, err
	}
	list, err := decodeEntries(plain)
	if err != nil {
		return nil, err
	}
	return twoFASEntries(list, "2FAS (encrypted)")
}

func twoFASEntries(list []json.RawMessage, format string) (*Result, error) {
	c := newCollector(format)
	eachEntry(c, list, func(n int, s *twoFASService) {
		issuer := firstNonEmpty(string(s.OTP.Issuer), string(s.Name))
		account := firstNonEmpty(string(s.OTP.Account), string(s.OTP.Label))
		var k otp.Key
		k.Issuer, k.Account = issuer, account
		kind, ok := parseKind(string(s.OTP.TokenType))
		if !ok {
			c.bad(n, issuer, account, kindNotSupported(string(s.OTP.TokenType)), kindDetail(string(s.OTP.TokenType)))
			return
		}
		k.Params.Kind = kind
		c.addFields(n, issuer, account, k, fields{secret: string(s.Secret), algorithm: string(s.OTP.Algorithm),
			digits: s.OTP.Digits, period: s.OTP.Period, counter: s.OTP.Counter})
	})
	return c.result(), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
