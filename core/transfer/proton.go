package transfer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/authbot/authbot/core/otp"
)

// Proton Authenticator's export: {"version": 1, "entries": [{"id",
// "content": {"uri": "otpauth://...", "entry_type": "Totp" | "Steam",
// "name"}, "note"}]}; a steam:// link in uri is read as Steam Guard.
//
// The password-protected export (proton-pass-common's
// proton-authenticator/src/entry/password_exporter.rs and crypto.rs) is
// {"version": 1, "salt": "<base64, 16 bytes>", "content": "<base64>"}:
// content is a 12-byte nonce then AES-256-GCM ciphertext and tag, with the
// associated data "proton.authenticator.export.v1", under
// Argon2id(password, salt, t=2, m=19 MiB, p=1). The costs are fixed by the
// format. The plaintext is the plain export above.

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

const (
	protonArgonTime   = 2
	protonArgonMemory = 19 * 1024 // KiB
	protonAAD         = "proton.authenticator.export.v1"
)

func importProtonEncrypted(ctx context.Context, top map[string]json.RawMessage, password string) (*Result, error) {
	var saltB64, contentB64 str
	if json.Unmarshal(top["salt"], &saltB64) != nil || json.Unmarshal(top["content"], &contentB64) != nil {
		return nil, corrupt("the Proton Authenticator export's salt or content is not a string")
	}
	salt, err1 := base64.StdEncoding.DecodeString(string(saltB64))
	content, err2 := base64.StdEncoding.DecodeString(string(contentB64))
	if err1 != nil || err2 != nil || len(salt) != 16 || len(content) < gcmNonceSize+gcmTagSize {
		return nil, corrupt("the Proton Authenticator export's salt or content is damaged")
	}
	if password == "" {
		return nil, ErrPasswordRequired
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := argon2.IDKey([]byte(password), salt, protonArgonTime, protonArgonMemory, 1, aes256KeySize)
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, content[:gcmNonceSize], content[gcmNonceSize:], []byte(protonAAD))
	if err != nil {
		return nil, ErrWrongPassword
	}
	inner, ok := jsonObject(plain)
	if !ok {
		return nil, corrupt("the decrypted Proton Authenticator export is not a JSON object")
	}
	if _, ok := inner["entries"]; !ok {
		return nil, corrupt("the decrypted Proton Authenticator export has no entries")
	}
	res, err := importProton(inner)
	if err != nil {
		return nil, err
	}
	res.Format = "Proton Authenticator (encrypted)"
	return res, nil
}
