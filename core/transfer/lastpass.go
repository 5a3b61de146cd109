package transfer

import (
	"encoding/json"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// LastPass Authenticator's JSON export (Settings → Transfer accounts →
// Export to file): {"version", "deviceId", "deviceSecret", "accounts":
// [{"accountID", "issuerName", "originalIssuerName", "userName",
// "originalUserName", "secret" (base32), "timeStep", "digits", "algorithm",
// "pushNotification", "folderData", ...}], "folders": [...]}. Every account
// is TOTP; the names a person edited in the app are preferred to the
// originals. Push-notification accounts (LastPass's own login) have no code
// to import.

type lastPassAccount struct {
	IssuerName         str  `json:"issuerName"`
	OriginalIssuerName str  `json:"originalIssuerName"`
	UserName           str  `json:"userName"`
	OriginalUserName   str  `json:"originalUserName"`
	Secret             str  `json:"secret"`
	TimeStep           num  `json:"timeStep"`
	Digits             num  `json:"digits"`
	Algorithm          str  `json:"algorithm"`
	PushNotification   bool `json:"pushNotification"`
}

// isLastPass reports whether an "accounts" list is LastPass's: its
// entries carry issuerName/originalIssuerName.
func isLastPass(raw json.RawMessage) bool {
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return false
	}
	if len(list) == 0 {
		return true
	}
	_, a := list[0]["issuerName"]
	_, b := list[0]["originalIssuerName"]
	return a || b
}

func importLastPass(top map[string]json.RawMessage) (*Result, error) {
	list, err := decodeEntries(top["accounts"])
	if err != nil {
		return nil, err
	}
	c := newCollector("LastPass Authenticator")
	eachEntry(c, list, func(n int, a *lastPassAccount) {
		issuer := firstNonEmpty(strings.TrimSpace(string(a.IssuerName)), string(a.OriginalIssuerName))
		account := firstNonEmpty(strings.TrimSpace(string(a.UserName)), string(a.OriginalUserName))
		if a.PushNotification && strings.TrimSpace(string(a.Secret)) == "" {
			c.bad(n, issuer, account, "a LastPass push-notification login has no code to import", Detail{ID: "lastpass_push"})
			return
		}
		k := otp.Key{Issuer: issuer, Account: account, Params: otp.Default(otp.TOTP)}
		c.addFields(n, issuer, account, k, fields{secret: string(a.Secret), algorithm: string(a.Algorithm),
			digits: a.Digits, period: a.TimeStep})
	})
	return c.result(), nil
}

// Raivo OTP (iOS) exports a password-protected zip (WinZip AES) holding
// raivo-otp-export.json: a JSON array of {"issuer", "account", "secret",
// "kind": "TOTP" | "HOTP", "algorithm", "digits", "timer", "counter",
// "iconType", "iconValue", "pinned"}, every value a string.

type raivoEntry struct {
	Issuer    str `json:"issuer"`
	Account   str `json:"account"`
	Secret    str `json:"secret"`
	Kind      str `json:"kind"`
	Algorithm str `json:"algorithm"`
	Digits    num `json:"digits"`
	Timer     num `json:"timer"`
	Counter   num `json:"counter"`
}

// isRaivo reports whether a top-level JSON array is Raivo's (its entries
// have "kind" and "timer"), as opposed to andOTP's.
func isRaivo(data []byte) bool {
	var list []map[string]json.RawMessage
	if json.Unmarshal(data, &list) != nil || len(list) == 0 {
		return false
	}
	_, kind := list[0]["kind"]
	_, timer := list[0]["timer"]
	return kind && timer
}

func importRaivo(data []byte) (*Result, error) {
	list, err := decodeEntries(data)
	if err != nil {
		return nil, err
	}
	c := newCollector("Raivo OTP")
	eachEntry(c, list, func(n int, e *raivoEntry) {
		issuer, account := string(e.Issuer), string(e.Account)
		var k otp.Key
		k.Issuer, k.Account = issuer, account
		switch strings.ToUpper(strings.TrimSpace(string(e.Kind))) {
		case "", "TOTP":
			k.Params.Kind = otp.TOTP
		case "HOTP":
			k.Params.Kind = otp.HOTP
		default:
			c.bad(n, issuer, account, kindNotSupported(string(e.Kind)), kindDetail(string(e.Kind)))
			return
		}
		c.addFields(n, issuer, account, k, fields{secret: string(e.Secret), algorithm: string(e.Algorithm),
			digits: e.Digits, period: e.Timer, counter: e.Counter})
	})
	return c.result(), nil
}
