package transfer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// Bitwarden (password manager) and Bitwarden Authenticator exports. JSON:
// {"encrypted": false, "items": [{"name", "login": {"username", "totp"}}]};
// CSV: a header row with login_totp (and name, login_username). The totp
// value is an otpauth:// link, steam://<base32 key>, or a bare base32 key.

type bitwardenItem struct {
	Name  str `json:"name"`
	Login *struct {
		Username str `json:"username"`
		TOTP     str `json:"totp"`
	} `json:"login"`
}

func importBitwardenJSON(top map[string]json.RawMessage) (*Result, error) {
	return bitwardenItems(top, "Bitwarden")
}

func bitwardenItems(top map[string]json.RawMessage, format string) (*Result, error) {
	var encrypted bool
	if raw, ok := top["encrypted"]; ok {
		_ = json.Unmarshal(raw, &encrypted)
	}
	if encrypted {
		return nil, errBitwardenAccountKey
	}
	list, err := decodeEntries(top["items"])
	if err != nil {
		return nil, err
	}
	c := newCollector(format)
	eachEntry(c, list, func(n int, it *bitwardenItem) {
		if it.Login == nil || strings.TrimSpace(string(it.Login.TOTP)) == "" {
			return // a password without two-factor: nothing to import
		}
		bitwardenTOTP(c, n, string(it.Name), string(it.Login.Username), string(it.Login.TOTP))
	})
	return c.result(), nil
}

// importBitwardenCSV reads a CSV export whose header has login_totp.
func importBitwardenCSV(text string) (*Result, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil, corrupt("the CSV header cannot be read")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	c := newCollector("Bitwarden (CSV)")
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, corrupt("CSV row %d cannot be read", n)
		}
		if n > MaxEntries {
			return nil, ErrTooLarge
		}
		totp := strings.TrimSpace(field(rec, "login_totp"))
		if totp == "" {
			continue
		}
		bitwardenTOTP(c, n, field(rec, "name"), field(rec, "login_username"), totp)
	}
	return c.result(), nil
}

func bitwardenTOTP(c *collector, n int, name, username, totp string) {
	totp = strings.TrimSpace(totp)
	lower := strings.ToLower(totp)
	var k otp.Key
	switch {
	case strings.HasPrefix(lower, "otpauth://"):
		key, err := otp.ParseURI(totp)
		if err != nil {
			c.bad(n, name, username, err.Error())
			return
		}
		k = key
		if k.Issuer == "" {
			k.Issuer = name
		}
		if k.Account == "" {
			k.Account = username
		}
	case strings.HasPrefix(lower, "steam://"):
		secret, err := decodeSecret(totp[len("steam://"):])
		if err != nil {
			c.bad(n, name, username, err.Error())
			return
		}
		k = otp.Key{Issuer: firstNonEmpty(name, "Steam"), Account: username, Params: otp.Default(otp.Steam)}
		k.Params.Secret = secret
	default:
		secret, err := decodeSecret(totp)
		if err != nil {
			c.bad(n, name, username, err.Error())
			return
		}
		k = otp.Key{Issuer: name, Account: username, Params: otp.Default(otp.TOTP)}
		k.Params.Secret = secret
	}
	c.add(n, k)
}

// looksLikeBitwardenCSV reports whether text starts with a CSV header that
// has a login_totp column.
func looksLikeBitwardenCSV(text string) bool {
	first, _, _ := strings.Cut(text, "\n")
	return bytes.Contains([]byte(first), []byte("login_totp"))
}
