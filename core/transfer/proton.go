package transfer

import (
	"encoding/json"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// Proton Authenticator's export: {"version": 1, "entries": [{"id",
// "content": {"uri": "otpauth://...", "entry_type": "Totp" | "Steam",
// "name"}, "note"}]}; a steam:// link in uri is read as Steam Guard. The
// password-protected export ({"version", "salt", "content"}) is refused
// with advice: its key derivation is not published.

type protonEntry struct {
	Content *struct {
		URI       str `json:"uri"`
		EntryType str `json:"entry_type"`
		Name      str `json:"name"`
	} `json:"content"`
}

func importProton(top map[string]json.RawMessage) (*Result, error) {
	list, err := decodeEntries(top["entries"])
	if err != nil {
		return nil, err
	}
	c := newCollector("Proton Authenticator")
	for i, raw := range list {
		n := i + 1
		var e protonEntry
		if err := json.Unmarshal(raw, &e); err != nil || e.Content == nil {
			c.bad(n, "", "", "the entry is not in the expected form")
			continue
		}
		name, uri := string(e.Content.Name), strings.TrimSpace(string(e.Content.URI))
		if rest, ok := cutPrefixFold(uri, "steam://"); ok {
			secret, err := decodeSecret(rest)
			if err != nil {
				c.bad(n, "Steam", name, err.Error())
				continue
			}
			k := otp.Key{Issuer: "Steam", Account: name, Params: otp.Default(otp.Steam)}
			k.Params.Secret = secret
			c.add(n, k)
			continue
		}
		k, err := otp.ParseURI(uri)
		if err != nil {
			c.bad(n, "", name, err.Error())
			continue
		}
		if k.Account == "" {
			k.Account = name
		}
		c.add(n, k)
	}
	return c.result(), nil
}

// isProtonEntries reports whether entries look like Proton's (each has a
// content object), as opposed to a Steam manifest's.
func isProtonEntries(raw json.RawMessage) bool {
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return false
	}
	_, ok := list[0]["content"]
	return ok
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
