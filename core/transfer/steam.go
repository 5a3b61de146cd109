package transfer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/authbot/authbot/core/otp"
)

// Steam Guard secrets. Steam's own app keeps them to itself; people get them
// from Steam Desktop Authenticator (SDA) or steamguard-cli, which write one
// .maFile per account and a manifest.json beside them:
//
//	maFile: {"shared_secret": "<base64>", "account_name", "uri", "Session": {"SteamID"}, ...}
//	        newer shape: "steamid" as a string, "steamguard_scheme"; steamguard-cli: "steam_id"
//	SDA manifest: {"encrypted": bool, "entries": [{"encryption_iv", "encryption_salt", "filename", "steamid"}]}
//	steamguard-cli manifest: {"version": 1, "entries": [{"filename", "steam_id", "account_name",
//	        "encryption": null | {"iv", "salt", "scheme": "LegacySdaCompatible" | "Argon2idAes256"}}]}
//
// An encrypted maFile is the base64 of AES-256-CBC (PKCS#7) ciphertext under
// a key from the password and that entry's salt: PBKDF2-HMAC-SHA1 with 50,000
// rounds (SDA, and steamguard-cli's LegacySdaCompatible), or Argon2id with
// t=3, m=12 MiB, p=12 (steamguard-cli's Argon2idAes256). Costs are fixed by
// the format, not read from the file. The "uri" inside a maFile often holds a
// placeholder secret (secret=ASDF): shared_secret is the real one.

const (
	steamPBKDF2Iter   = 50_000
	steamArgonTime    = 3
	steamArgonMemory  = 12 * 1024 // KiB
	steamArgonThreads = 12
	// maxSteamEntries bounds a manifest: each encrypted entry costs a key
	// derivation. People have a handful of Steam accounts.
	maxSteamEntries = 100
)

type steamMaFile struct {
	SharedSecret str `json:"shared_secret"`
	AccountName  str `json:"account_name"`
	SteamID      str `json:"steamid"`
	SteamID2     str `json:"steam_id"`
	Session      *struct {
		SteamID str `json:"SteamID"`
	} `json:"Session"`
}

func (m *steamMaFile) steamID() string {
	switch {
	case m.SteamID != "":
		return string(m.SteamID)
	case m.SteamID2 != "":
		return string(m.SteamID2)
	case m.Session != nil:
		return string(m.Session.SteamID)
	}
	return ""
}

// steamKey turns one maFile into a Steam Guard key, or says why not.
func steamKey(raw json.RawMessage) (otp.Key, string, string) {
	var m steamMaFile
	if err := json.Unmarshal(raw, &m); err != nil {
		return otp.Key{}, "", entryError(err)
	}
	name := string(m.AccountName)
	s := strings.TrimSpace(string(m.SharedSecret))
	if s == "" {
		return otp.Key{}, name, "it has no shared_secret"
	}
	secret, err := decodeBase64(s)
	if err != nil || len(secret) == 0 {
		return otp.Key{}, name, "its shared_secret is not valid base64"
	}
	k := otp.Key{Issuer: "Steam", Account: name, Params: otp.Default(otp.Steam)}
	k.Params.Secret = secret
	return k, name, ""
}

// decodeBase64 reads standard or URL base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

// importSteamMaFile reads one plain maFile, which needs no manifest.
func importSteamMaFile(raw []byte) (*Result, error) {
	c := newCollector("Steam Guard (.maFile)")
	addSteam(c, 1, raw)
	return c.result(), nil
}

func addSteam(c *collector, n int, raw json.RawMessage) {
	k, name, reason := steamKey(raw)
	if reason != "" {
		c.bad(n, "Steam", name, reason)
		return
	}
	c.add(n, k)
}

// importSteamAccounts reads {"accounts": {"<name>": maFile, ...}}, the shape
// the Steam app itself keeps (Aegis reads it from rooted phones; people copy
// it out of backups).
func importSteamAccounts(raw json.RawMessage) (*Result, error) {
	list, err := objectValues(raw)
	if err != nil {
		return nil, err
	}
	c := newCollector("Steam Guard")
	for i, v := range list {
		addSteam(c, i+1, v)
	}
	return c.result(), nil
}

// objectValues returns the values of a JSON object in file order (a Go map
// would lose it), refusing more than MaxEntries.
func objectValues(raw json.RawMessage) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, corrupt("the list of accounts is not a JSON object")
	}
	var out []json.RawMessage
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key
			return nil, corrupt("not valid JSON").with("not_json")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, corrupt("not valid JSON").with("not_json")
		}
		if len(out) == MaxEntries {
			return nil, ErrTooLarge
		}
		out = append(out, v)
	}
	return out, nil
}

// steamManifest is either manifest.json shape, read into one form.
type steamManifest struct {
	format    string
	encrypted bool
	entries   []steamManifestEntry
}

type steamManifestEntry struct {
	filename, steamID, account string
	iv, salt                   string
	argon                      bool // steamguard-cli's Argon2idAes256 scheme
}

// parseSteamManifest reads top as a manifest.json, if it is one.
func parseSteamManifest(top map[string]json.RawMessage) (*steamManifest, bool, error) {
	raw, ok := top["entries"]
	if !ok {
		return nil, false, nil
	}
	var entries []map[string]json.RawMessage
	if json.Unmarshal(raw, &entries) != nil {
		return nil, false, nil
	}
	_, hasEncrypted := top["encrypted"]
	_, hasVersion := top["version"]
	for _, e := range entries {
		if _, ok := e["filename"]; !ok {
			return nil, false, nil // not a Steam manifest (Proton has entries too)
		}
	}
	if !hasEncrypted && !hasVersion {
		return nil, false, nil
	}
	if len(entries) > maxSteamEntries {
		return nil, true, ErrTooLarge
	}
	m := &steamManifest{format: "Steam Desktop Authenticator"}
	if hasEncrypted {
		_ = json.Unmarshal(top["encrypted"], &m.encrypted)
	} else {
		m.format = "steamguard-cli"
	}
	for _, e := range entries {
		var me steamManifestEntry
		var s str
		if json.Unmarshal(e["filename"], &s) == nil {
			me.filename = string(s)
		}
		for _, k := range []string{"steamid", "steam_id"} {
			if v, ok := e[k]; ok && json.Unmarshal(v, &s) == nil {
				me.steamID = string(s)
			}
		}
		if json.Unmarshal(e["account_name"], &s) == nil {
			me.account = string(s)
		}
		if hasEncrypted {
			var iv, salt str
			_ = json.Unmarshal(e["encryption_iv"], &iv)
			_ = json.Unmarshal(e["encryption_salt"], &salt)
			me.iv, me.salt = string(iv), string(salt)
		} else if enc, ok := e["encryption"]; ok && string(bytes.TrimSpace(enc)) != "null" {
			var sc struct {
				IV     str `json:"iv"`
				Salt   str `json:"salt"`
				Scheme str `json:"scheme"`
			}
			if json.Unmarshal(enc, &sc) != nil {
				return nil, true, corrupt("the steamguard-cli manifest's encryption settings are not in the expected form")
			}
			switch sc.Scheme {
			case "LegacySdaCompatible":
			case "Argon2idAes256":
				me.argon = true
			default:
				return nil, true, corrupt("the steamguard-cli manifest uses an encryption scheme I do not know (%q)", clip(string(sc.Scheme), 30))
			}
			me.iv, me.salt = string(sc.IV), string(sc.Salt)
			m.encrypted = true
		}
		m.entries = append(m.entries, me)
	}
	return m, true, nil
}

// errSteamManifestOnly says what a lone manifest.json lacks.
func (m *steamManifest) needFiles() error {
	return &NeedFileError{Format: m.format + " manifest.json", Want: fmt.Sprintf(
		"it lists %d %s but holds no keys; send the .maFile %s from the same maFiles folder too (or a zip of the whole folder)",
		len(m.entries), pluralWord(len(m.entries), "account", "accounts"), pluralWord(len(m.entries), "file", "files")),
		Detail: Detail{ID: "need_mafiles", Args: []any{"Count", len(m.entries)}}}
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// looksLikeEncryptedMaFile reports whether text is one base64 string whose
// bytes are whole AES blocks: what SDA and steamguard-cli write for an
// encrypted .maFile. No marker says so; the manifest confirms it.
func looksLikeEncryptedMaFile(data []byte) bool {
	s := bytes.TrimSpace(data)
	if len(s) < 44 || bytes.ContainsAny(s, " \t\r\n") {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(string(s))
	return err == nil && len(b) >= 32 && len(b)%16 == 0
}

// importSteamSet reads a manifest with the maFiles sent alongside it. Plain
// maFiles are JSON; encrypted ones are matched to their manifest entry by
// trying each entry's key on them, since nothing but the file name (which
// is not trusted, and a chat may not keep) ties a file to its entry.
func (im *Importer) importSteamSet(ctx context.Context, m *steamManifest, plain []json.RawMessage, sealed [][]byte, password string) (*Result, error) {
	format := m.format
	if m.encrypted {
		format += " (encrypted)"
	}
	c := newCollector(format)
	if len(plain) == 0 && len(sealed) == 0 {
		return nil, m.needFiles()
	}
	if len(sealed) > 0 && !m.encrypted {
		return nil, corrupt("the manifest.json says its .maFile files are not encrypted, but an encrypted one was sent; send the manifest.json of that folder").with("manifest_unencrypted")
	}
	n := 0
	// Plain maFiles stand alone; the manifest only names them.
	found := map[string]bool{}
	for _, raw := range plain {
		n++
		var m steamMaFile
		if json.Unmarshal(raw, &m) == nil && m.steamID() != "" {
			found[m.steamID()] = true
		}
		addSteam(c, n, raw)
	}
	matched := make([]bool, len(m.entries))
	for i, e := range m.entries {
		matched[i] = e.steamID != "" && found[e.steamID]
	}
	if len(sealed) > 0 {
		if password == "" {
			return nil, ErrPasswordRequired
		}
		used := make([]bool, len(sealed))
		opened := 0
		for ei, e := range m.entries {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if matched[ei] {
				continue
			}
			salt, err1 := base64.StdEncoding.DecodeString(e.salt)
			iv, err2 := base64.StdEncoding.DecodeString(e.iv)
			if err1 != nil || err2 != nil || len(salt) == 0 || len(iv) != 16 {
				continue // reported below as not opened
			}
			var key []byte
			if e.argon {
				key = argon2.IDKey([]byte(password), salt, steamArgonTime, steamArgonMemory, steamArgonThreads, aes256KeySize)
			} else if key, err1 = pbkdf2Key(sha1New, password, salt, steamPBKDF2Iter); err1 != nil {
				return nil, err1
			}
			for i, blob := range sealed {
				if used[i] {
					continue
				}
				ct, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(blob)))
				if err != nil {
					continue
				}
				if first, ok := cbcFirstBlock(key, iv, ct); !ok || first[0] != '{' {
					continue
				}
				pt, ok := cbcOpen(key, iv, ct)
				if !ok || checkJSON(pt) != nil {
					continue
				}
				used[i], matched[ei] = true, true
				opened++
				n++
				addSteam(c, n, pt)
				break
			}
		}
		if opened == 0 {
			return nil, ErrWrongPassword
		}
		if opened < len(sealed) {
			n++
			c.bad(n, "", "", fmt.Sprintf("%d encrypted .maFile %s did not open with this password and this manifest.json",
				len(sealed)-opened, pluralWord(len(sealed)-opened, "file", "files")), Detail{ID: "mafiles_closed", Args: []any{"Count", len(sealed) - opened}})
		}
	}
	for i, e := range m.entries {
		if matched[i] || (e.steamID == "" && !m.encrypted) {
			continue
		}
		n++
		what := "its .maFile was not sent"
		if e.filename != "" {
			what = fmt.Sprintf("its .maFile (%s) was not sent", clip(cleanText(e.filename), 60))
		}
		d := Detail{ID: "mafile_missing"}
		if e.filename != "" {
			d = Detail{ID: "mafile_missing_named", Args: []any{"Name", clip(cleanText(e.filename), 60)}}
		}
		c.bad(n, "Steam", e.account, what+"; send the manifest.json again with that file", d)
	}
	return c.result(), nil
}

// SteamManifestFiles returns the .maFile names that data, a Steam
// manifest.json, lists; ok is false when data is not one. authbot import
// uses it to read the files beside a manifest. The names are the file's
// content: callers must keep them to one folder (filepath.Base).
func SteamManifestFiles(data []byte) (names []string, ok bool) {
	top, isObj := jsonObject(data)
	if !isObj {
		return nil, false
	}
	m, ok, err := parseSteamManifest(top)
	if !ok || err != nil {
		return nil, false
	}
	for _, e := range m.entries {
		names = append(names, e.filename)
	}
	return names, true
}
