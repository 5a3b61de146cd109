package transfer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// Aegis vault format (docs/vault.md in the Aegis repository):
//
//	{"version": 1,
//	 "header": {"slots": [...] | null, "params": {"nonce", "tag"} | null},
//	 "db": {...plain db...} | "<base64 AES-256-GCM ciphertext of the db>"}
//
// A password slot (type 1) holds the master key wrapped with AES-256-GCM
// under scrypt(password, salt, n, r, p); the db is sealed with the master key
// under header.params. Nonces and tags are hex.

type aegisParams struct {
	Nonce string `json:"nonce"`
	Tag   string `json:"tag"`
}

type aegisSlot struct {
	Type      int          `json:"type"`
	UUID      string       `json:"uuid"`
	Key       string       `json:"key"`
	KeyParams *aegisParams `json:"key_params"`
	N         int64        `json:"n,omitempty"`
	R         int64        `json:"r,omitempty"`
	P         int64        `json:"p,omitempty"`
	Salt      string       `json:"salt,omitempty"`
	Repaired  bool         `json:"repaired,omitempty"`
	IsBackup  bool         `json:"is_backup,omitempty"`
}

type aegisHeader struct {
	Slots  []aegisSlot  `json:"slots"`
	Params *aegisParams `json:"params"`
}

type aegisDB struct {
	Version int               `json:"version"`
	Entries []json.RawMessage `json:"entries"`
}

type aegisEntry struct {
	Type   str `json:"type"`
	Name   str `json:"name"`
	Issuer str `json:"issuer"`
	Info   struct {
		Secret  str `json:"secret"`
		Algo    str `json:"algo"`
		Digits  num `json:"digits"`
		Period  num `json:"period"`
		Counter num `json:"counter"`
	} `json:"info"`
}

const aegisSlotPassword = 1

func importAegis(ctx context.Context, top map[string]json.RawMessage, password string) (*Result, error) {
	var header aegisHeader
	if err := json.Unmarshal(top["header"], &header); err != nil {
		return nil, corrupt("the Aegis header is not in the expected form")
	}
	raw := top["db"]
	var sealedB64 string
	if err := json.Unmarshal(raw, &sealedB64); err != nil {
		// Not a string: a plain vault, the db is the object itself.
		return aegisEntries(raw, "Aegis")
	}
	if header.Params == nil {
		return nil, corrupt("the Aegis vault is encrypted but its header has no parameters")
	}
	if password == "" {
		return nil, ErrPasswordRequired
	}
	sealed, err := base64.StdEncoding.DecodeString(sealedB64)
	if err != nil {
		return nil, corrupt("the Aegis vault's data is not valid base64")
	}
	master, err := aegisUnlock(ctx, header.Slots, password)
	if err != nil {
		return nil, err
	}
	nonce, tag, err := decodeParams(header.Params)
	if err != nil {
		return nil, err
	}
	plain, err := gcmOpen(master, nonce, append(sealed, tag...))
	if err != nil {
		// The password unlocked the slot, so the data itself is damaged.
		return nil, corrupt("the Aegis vault's data does not decrypt (%v)", err)
	}
	return aegisEntries(plain, "Aegis (encrypted)")
}

// aegisUnlock tries the password slots in turn and returns the master key.
func aegisUnlock(ctx context.Context, slots []aegisSlot, password string) ([]byte, error) {
	tried := 0
	for _, s := range slots {
		if s.Type != aegisSlotPassword {
			continue // raw and biometric slots need keys we do not have
		}
		if tried == maxPasswordSlots {
			break
		}
		tried++
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		salt, err := hex.DecodeString(s.Salt)
		if err != nil {
			return nil, corrupt("a password slot's salt is not valid hex")
		}
		wrapped, err := hex.DecodeString(s.Key)
		if err != nil {
			return nil, corrupt("a password slot's key is not valid hex")
		}
		if s.KeyParams == nil {
			return nil, corrupt("a password slot has no key parameters")
		}
		nonce, tag, err := decodeParams(s.KeyParams)
		if err != nil {
			return nil, err
		}
		kek, err := scryptKey(password, salt, s.N, s.R, s.P)
		if err != nil {
			return nil, err
		}
		master, err := gcmOpen(kek, nonce, append(wrapped, tag...))
		if errors.Is(err, errAuth) {
			continue // another slot may hold another password
		}
		if err != nil {
			return nil, corrupt("a password slot cannot be opened (%v)", err)
		}
		if len(master) != aes256KeySize {
			return nil, corrupt("the vault's master key has the wrong size")
		}
		return master, nil
	}
	if tried == 0 {
		return nil, unsupported("this Aegis vault has no password slot (it can only be opened with a fingerprint on the phone); export it again with a password").with("aegis_no_password")
	}
	return nil, ErrWrongPassword
}

func decodeParams(p *aegisParams) (nonce, tag []byte, err error) {
	nonce, err1 := hex.DecodeString(p.Nonce)
	tag, err2 := hex.DecodeString(p.Tag)
	if err1 != nil || err2 != nil || len(nonce) != gcmNonceSize || len(tag) != gcmTagSize {
		return nil, nil, corrupt("the encryption parameters (nonce and tag) are not in the expected form")
	}
	return nonce, tag, nil
}

func aegisEntries(raw []byte, format string) (*Result, error) {
	var db aegisDB
	if err := json.Unmarshal(raw, &db); err != nil {
		return nil, corrupt("the Aegis database is not in the expected form")
	}
	if len(db.Entries) > MaxEntries {
		return nil, ErrTooLarge
	}
	c := newCollector(format)
	eachEntry(c, db.Entries, func(n int, e *aegisEntry) {
		issuer, name := string(e.Issuer), string(e.Name)
		var k otp.Key
		k.Issuer, k.Account = issuer, name
		kind, ok := parseKind(string(e.Type))
		switch {
		case ok && e.Type != "": // Aegis always writes the type
			k.Params.Kind = kind
		case strings.EqualFold(string(e.Type), "yandex"), strings.EqualFold(string(e.Type), "motp"):
			c.bad(n, issuer, name, kindNotSupported(string(e.Type)), kindDetail(string(e.Type)))
			return
		default:
			c.bad(n, issuer, name, fmt.Sprintf("unknown kind of code %q", clip(string(e.Type), 20)))
			return
		}
		c.addFields(n, issuer, name, k, fields{secret: string(e.Info.Secret), algorithm: string(e.Info.Algo),
			digits: e.Info.Digits, period: e.Info.Period, counter: e.Info.Counter})
	})
	return c.result(), nil
}

// Aegis export parameters: what Aegis itself writes today.
const (
	aegisScryptN      = 1 << 15
	aegisScryptR      = 8
	aegisScryptP      = 1
	aegisDBVersion    = 3
	aegisVaultVersion = 1
)

type aegisOutEntry struct {
	Type     string         `json:"type"`
	UUID     string         `json:"uuid"`
	Name     string         `json:"name"`
	Issuer   string         `json:"issuer"`
	Note     string         `json:"note"`
	Favorite bool           `json:"favorite"`
	Icon     *string        `json:"icon"`
	Info     map[string]any `json:"info"`
	Groups   []string       `json:"groups"`
}

type aegisOutDB struct {
	Version        int             `json:"version"`
	Entries        []aegisOutEntry `json:"entries"`
	Groups         []any           `json:"groups"`
	IconsOptimized bool            `json:"icons_optimized"`
}

type aegisOutVault struct {
	Version int         `json:"version"`
	Header  aegisHeader `json:"header"`
	DB      string      `json:"db"`
}

// MinExportPassword is the shortest password, in characters, that authbot
// accepts for an export file it hands out.
const MinExportPassword = 8

// ErrWeakPassword is CheckExportPassword's refusal. Its text reads to a
// person, so a CLI may print it as is.
var ErrWeakPassword = fmt.Errorf("the password is too short: use at least %d characters", MinExportPassword)

// CheckExportPassword is authbot's one rule for export passwords (chat and
// CLI both ask it): at least MinExportPassword characters. ExportAegis
// itself takes any non-empty password, as Aegis does, so fixtures and
// tests can use short ones.
func CheckExportPassword(password string) error {
	if len([]rune(password)) < MinExportPassword {
		return ErrWeakPassword
	}
	return nil
}

// ExportAegis returns keys as an encrypted Aegis vault (vault version 1,
// database version 3) that Aegis opens with password: one password slot with
// scrypt N=2^15 r=8 p=1 wrapping a random 32-byte master key, and the
// database sealed with AES-256-GCM. The keys are validated first; a key that
// fails validation is an error, since a vault missing an account silently
// would be worse.
func ExportAegis(keys []otp.Key, password string) ([]byte, error) {
	if password == "" {
		return nil, errors.New("export aegis: a password is required")
	}
	db := aegisOutDB{Version: aegisDBVersion, Entries: []aegisOutEntry{}, Groups: []any{}, IconsOptimized: true}
	for i, k := range keys {
		if err := k.Params.Validate(); err != nil {
			return nil, fmt.Errorf("export aegis: key %d: %w", i+1, err)
		}
		id, err := newUUID()
		if err != nil {
			return nil, fmt.Errorf("export aegis: %w", err)
		}
		p := k.Params
		info := map[string]any{
			"secret": otp.EncodeSecret(p.Secret),
			"algo":   string(p.Algorithm),
			"digits": p.Digits,
		}
		if p.Kind == otp.HOTP {
			info["counter"] = p.Counter
		} else {
			info["period"] = p.Period
		}
		db.Entries = append(db.Entries, aegisOutEntry{
			Type: string(p.Kind), UUID: id, Name: k.Account, Issuer: k.Issuer,
			Info: info, Groups: []string{},
		})
	}
	plain, err := json.Marshal(db)
	if err != nil {
		return nil, fmt.Errorf("export aegis: %w", err)
	}

	master := make([]byte, aes256KeySize)
	salt := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		return nil, fmt.Errorf("export aegis: random key: %w", err)
	}
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("export aegis: random salt: %w", err)
	}
	kek, err := scryptKey(password, salt, aegisScryptN, aegisScryptR, aegisScryptP)
	if err != nil {
		return nil, fmt.Errorf("export aegis: %w", err)
	}
	keyNonce, wrapped, keyTag, err := gcmSeal(kek, master)
	if err != nil {
		return nil, fmt.Errorf("export aegis: wrap key: %w", err)
	}
	dbNonce, sealed, dbTag, err := gcmSeal(master, plain)
	if err != nil {
		return nil, fmt.Errorf("export aegis: seal db: %w", err)
	}
	slotID, err := newUUID()
	if err != nil {
		return nil, fmt.Errorf("export aegis: %w", err)
	}
	vault := aegisOutVault{
		Version: aegisVaultVersion,
		Header: aegisHeader{
			Slots: []aegisSlot{{
				Type: aegisSlotPassword, UUID: slotID, Key: hex.EncodeToString(wrapped),
				KeyParams: &aegisParams{Nonce: hex.EncodeToString(keyNonce), Tag: hex.EncodeToString(keyTag)},
				N:         aegisScryptN, R: aegisScryptR, P: aegisScryptP, Salt: hex.EncodeToString(salt),
				// Aegis marks slots made after its fix of an old scrypt
				// parameter bug as repaired; without it Aegis offers to
				// "repair" the slot on first unlock.
				Repaired: true,
			}},
			Params: &aegisParams{Nonce: hex.EncodeToString(dbNonce), Tag: hex.EncodeToString(dbTag)},
		},
		DB: base64.StdEncoding.EncodeToString(sealed),
	}
	out, err := json.MarshalIndent(vault, "", "    ")
	if err != nil {
		return nil, fmt.Errorf("export aegis: %w", err)
	}
	return out, nil
}

// newUUID returns a random (version 4) UUID, as Aegis gives every entry.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
