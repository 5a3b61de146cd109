package transfer

import (
	"encoding/json"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// FreeOTP+ JSON export: {"tokenOrder": [...], "tokens": [{"algo", "counter",
// "digits", "issuerExt", "issuerInt", "label", "period", "secret": [signed
// bytes], "type"}]}.

type freeOTPToken struct {
	Algo      str   `json:"algo"`
	Counter   num   `json:"counter"`
	Digits    num   `json:"digits"`
	IssuerExt str   `json:"issuerExt"`
	IssuerInt str   `json:"issuerInt"`
	Label     str   `json:"label"`
	Period    num   `json:"period"`
	Secret    []num `json:"secret"`
	Type      str   `json:"type"`
}

func importFreeOTPPlus(top map[string]json.RawMessage) (*Result, error) {
	list, err := decodeEntries(top["tokens"])
	if err != nil {
		return nil, err
	}
	c := newCollector("FreeOTP+")
	eachEntry(c, list, func(n int, t *freeOTPToken) {
		issuer := firstNonEmpty(string(t.IssuerExt), string(t.IssuerInt))
		account := string(t.Label)
		if len(t.Secret) == 0 || len(t.Secret) > otp.MaxSecretBytes {
			c.bad(n, issuer, account, "the secret is missing or too long")
			return
		}
		secret := make([]byte, len(t.Secret))
		ok := true
		for j, v := range t.Secret {
			// Java writes bytes signed: -128..127 (0..255 accepted too).
			if v < -128 || v > 255 {
				ok = false
				break
			}
			secret[j] = byte(v)
		}
		if !ok {
			c.bad(n, issuer, account, "the secret is not a list of bytes")
			return
		}
		var k otp.Key
		k.Issuer, k.Account = issuer, account
		kind, ok := parseKind(string(t.Type))
		if !ok {
			c.bad(n, issuer, account, kindNotSupported(string(t.Type)), kindDetail(string(t.Type)))
			return
		}
		k.Params.Kind = kind
		switch kind {
		case otp.TOTP:
			// FreeOTP has no Steam type; Steam Guard keys are kept as TOTP
			// with issuer "Steam" (Aegis reads them the same way).
			if strings.EqualFold(issuer, "Steam") {
				k.Params.Kind = otp.Steam
			}
		case otp.HOTP:
			// FreeOTP stores the counter of the last code shown: it sets
			// counter-1 when it reads a link and increments before each
			// code. Ours is the counter the next code uses.
			if t.Counter < -1 {
				c.bad(n, issuer, account, "the counter is negative", Detail{ID: "counter_negative"})
				return
			}
			k.Params.Counter = uint64(t.Counter + 1)
		}
		algo, err := parseAlgorithm(string(t.Algo))
		if err != nil {
			c.bad(n, issuer, account, err.Error())
			return
		}
		k.Params.Secret, k.Params.Algorithm = secret, algo
		k.Params.Digits, k.Params.Period = t.Digits.int(), t.Period.int()
		c.add(n, k)
	})
	return c.result(), nil
}
