package transfer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/hkdf"
)

// Bitwarden's password-protected export (bitwarden.com/help/encrypted-export,
// and the clients' BitwardenPasswordProtectedImporter):
//
//	{"encrypted": true, "passwordProtected": true, "salt": "<text>",
//	 "kdfType": 0 | 1, "kdfIterations", "kdfMemory" (MiB), "kdfParallelism",
//	 "encKeyValidation_DO_NOT_EDIT": "<cipher string>", "data": "<cipher string>"}
//
// The key: kdfType 0 is PBKDF2-HMAC-SHA256(password, salt as UTF-8 bytes,
// kdfIterations); 1 is Argon2id(password, SHA-256(salt text), t=kdfIterations,
// m=kdfMemory MiB, p=kdfParallelism). Both give 32 bytes, stretched with
// HKDF-Expand-SHA256 (info "enc", then "mac") into an AES key and an HMAC key.
// A cipher string "2.<iv>|<ciphertext>|<mac>" (base64 parts) is AES-256-CBC
// with PKCS#7 and HMAC-SHA256(macKey, iv||ciphertext); the MAC is checked in
// constant time before anything is decrypted. data holds the plain JSON
// export. The account-restricted export ("encrypted": true without
// "passwordProtected") is sealed with the account's own key: only Bitwarden
// signed in to that account can open it.

const (
	bitwardenPBKDF2    = 0
	bitwardenArgon2id  = 1
	maxBitwardenMemMiB = 1024 // Bitwarden allows 16-1024 MiB
	maxBitwardenTime   = 10   // Bitwarden allows 2-10
	maxBitwardenPar    = 16   // Bitwarden allows 1-16
)

var errBitwardenAccountKey = unsupported("this Bitwarden export is account-restricted: it is encrypted with your Bitwarden account's own key, " +
	"so only Bitwarden signed in to that account can open it. In Bitwarden export again choosing \"Password protected\" (or the unencrypted .json format) and send me that file").with("bitwarden_account")

type bitwardenProtected struct {
	Salt           str `json:"salt"`
	KdfType        num `json:"kdfType"`
	KdfIterations  num `json:"kdfIterations"`
	KdfMemory      num `json:"kdfMemory"`
	KdfParallelism num `json:"kdfParallelism"`
	Validation     str `json:"encKeyValidation_DO_NOT_EDIT"`
	Data           str `json:"data"`
}

// isBitwardenProtected reports whether top is a password-protected export.
func isBitwardenProtected(top map[string]json.RawMessage) bool {
	var p bool
	raw, ok := top["passwordProtected"]
	return ok && json.Unmarshal(raw, &p) == nil && p
}

func (im *Importer) importBitwardenProtected(ctx context.Context, top map[string]json.RawMessage, password string) (*Result, error) {
	var b bitwardenProtected
	for k, dst := range map[string]json.Unmarshaler{"salt": &b.Salt, "kdfType": &b.KdfType, "kdfIterations": &b.KdfIterations,
		"kdfMemory": &b.KdfMemory, "kdfParallelism": &b.KdfParallelism, "encKeyValidation_DO_NOT_EDIT": &b.Validation, "data": &b.Data} {
		if raw, ok := top[k]; ok {
			if err := dst.UnmarshalJSON(raw); err != nil {
				return nil, corrupt("the Bitwarden export's %q is not in the expected form", k)
			}
		}
	}
	if b.Salt == "" || b.Data == "" {
		return nil, corrupt("the password-protected Bitwarden export has no salt or no data")
	}
	data, err := parseCipherString(string(b.Data))
	if err != nil {
		return nil, err
	}
	var check *cipherString
	if b.Validation != "" {
		if check, err = parseCipherString(string(b.Validation)); err != nil {
			return nil, err
		}
	}
	var mem int64
	switch b.KdfType {
	case bitwardenPBKDF2:
		if b.KdfIterations < 1 || b.KdfIterations > maxPBKDF2Iter {
			return nil, corrupt("the key-derivation setting (%d PBKDF2 iterations) is outside what I accept", b.KdfIterations).with("kdf_limits")
		}
	case bitwardenArgon2id:
		if b.KdfIterations < 1 || b.KdfIterations > maxBitwardenTime || b.KdfMemory < 1 || b.KdfMemory > maxBitwardenMemMiB ||
			b.KdfParallelism < 1 || b.KdfParallelism > maxBitwardenPar {
			return nil, corrupt("the key-derivation settings (Argon2id t=%d m=%d MiB p=%d) are outside what I accept",
				b.KdfIterations, b.KdfMemory, b.KdfParallelism).with("kdf_limits")
		}
		mem = int64(b.KdfMemory) << 20
	default:
		return nil, corrupt("the Bitwarden export uses a key derivation I do not know (kdfType %d)", b.KdfType)
	}
	if password == "" {
		if mem > heavyKDFBytes {
			return nil, errSlowPassword
		}
		return nil, ErrPasswordRequired
	}
	var master []byte
	if b.KdfType == bitwardenPBKDF2 {
		if master, err = pbkdf2Key(sha256New, password, []byte(b.Salt), int64(b.KdfIterations)); err != nil {
			return nil, err
		}
	} else {
		salt := sha256.Sum256([]byte(b.Salt))
		err := im.withKDF(ctx, mem, func() {
			master = argon2.IDKey([]byte(password), salt[:], uint32(b.KdfIterations), uint32(b.KdfMemory)*1024, uint8(b.KdfParallelism), 32)
		})
		if err != nil {
			return nil, err
		}
	}
	encKey, macKey := bitwardenStretch(master)
	if check != nil {
		if _, ok := check.open(encKey, macKey); !ok {
			return nil, ErrWrongPassword
		}
	}
	plain, ok := data.open(encKey, macKey)
	if !ok {
		if check != nil {
			// The password checked out, so the data itself is damaged.
			return nil, corrupt("the Bitwarden export's data does not decrypt")
		}
		return nil, ErrWrongPassword
	}
	if err := checkJSON(plain); err != nil {
		return nil, err
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(plain, &inner); err != nil {
		return nil, corrupt("the decrypted Bitwarden export is not a JSON object")
	}
	if _, ok := inner["items"]; !ok {
		return nil, corrupt("the decrypted Bitwarden export has no items")
	}
	return bitwardenItems(inner, "Bitwarden (password-protected)")
}

// bitwardenStretch is Bitwarden's stretchKey: HKDF-Expand with SHA-256.
func bitwardenStretch(master []byte) (encKey, macKey []byte) {
	encKey, macKey = make([]byte, 32), make([]byte, 32)
	// Expand cannot fail for 32 bytes of SHA-256 output.
	_, _ = hkdf.Expand(sha256.New, master, []byte("enc")).Read(encKey)
	_, _ = hkdf.Expand(sha256.New, master, []byte("mac")).Read(macKey)
	return encKey, macKey
}

// cipherString is Bitwarden's type 2: AES-256-CBC with HMAC-SHA256.
type cipherString struct{ iv, ct, mac []byte }

func parseCipherString(s string) (*cipherString, error) {
	typ, rest, ok := strings.Cut(strings.TrimSpace(s), ".")
	parts := strings.Split(rest, "|")
	if !ok || typ != "2" || len(parts) != 3 {
		return nil, corrupt("the Bitwarden export's encrypted data is not in the expected form (type 2, iv|data|mac)")
	}
	var cs cipherString
	for i, dst := range []*[]byte{&cs.iv, &cs.ct, &cs.mac} {
		b, err := base64.StdEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, corrupt("the Bitwarden export's encrypted data is not valid base64")
		}
		*dst = b
	}
	if len(cs.iv) != 16 || len(cs.mac) != 32 || len(cs.ct) == 0 || len(cs.ct)%16 != 0 {
		return nil, corrupt("the Bitwarden export's encrypted data has the wrong sizes")
	}
	return &cs, nil
}

// open checks the MAC (constant time) and only then decrypts.
func (c *cipherString) open(encKey, macKey []byte) ([]byte, bool) {
	h := hmac.New(sha256.New, macKey)
	h.Write(c.iv)
	h.Write(c.ct)
	if subtle.ConstantTimeCompare(h.Sum(nil), c.mac) != 1 {
		return nil, false
	}
	return cbcOpen(encKey, c.iv, c.ct)
}
