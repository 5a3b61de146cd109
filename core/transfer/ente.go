package transfer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/authbot/authbot/core/seal"
)

// Ente Auth's encrypted export (the one Ente recommends; docs/docs/auth/
// migration/export.md in the Ente repository):
//
//	{"version": 1, "kdfParams": {"memLimit", "opsLimit", "salt"},
//	 "encryptedData": "<base64>", "encryptionNonce": "<base64>"}
//
// The key is libsodium's crypto_pwhash with Argon2id v1.3: t=opsLimit,
// m=memLimit bytes, one lane, 32 bytes. The data is one message of
// libsodium's secretstream XChaCha20-Poly1305 (seal.StreamPuller) with the
// nonce as its header; the plaintext is Ente's plain export, one otpauth://
// link per line.
//
// Ente asks for up to 1 GiB (its "sensitive" setting, 4 passes; on weaker
// phones it halves memory and doubles the passes). That is allowed, but only
// one such derivation runs at a time (Importer) and the caller tells the
// person it takes a few seconds (ErrSlowKDF).

const (
	enteMaxMem  = 1 << 30 // bytes: Ente's sensitive limit
	enteMinMem  = 8 << 10 // libsodium's minimum
	enteMaxOps  = 64
	enteMaxWork = 4 << 30 // memLimit * opsLimit: Ente's 1 GiB x 4 passes and its fallbacks
)

type enteExport struct {
	KdfParams *struct {
		MemLimit num `json:"memLimit"`
		OpsLimit num `json:"opsLimit"`
		Salt     str `json:"salt"`
	} `json:"kdfParams"`
	EncryptedData   str `json:"encryptedData"`
	EncryptionNonce str `json:"encryptionNonce"`
}

func (im *Importer) importEnteEncrypted(ctx context.Context, data []byte, password string) (*Result, error) {
	var e enteExport
	if err := json.Unmarshal(data, &e); err != nil || e.KdfParams == nil {
		return nil, corrupt("the Ente Auth export is not in the expected form")
	}
	p := e.KdfParams
	mem, ops := int64(p.MemLimit), int64(p.OpsLimit)
	if mem < enteMinMem || mem > enteMaxMem || ops < 1 || ops > enteMaxOps || mem*ops > enteMaxWork {
		return nil, corrupt("the key-derivation settings (Argon2id memLimit=%d opsLimit=%d) are outside what I accept", mem, ops).with("kdf_limits")
	}
	salt, err1 := base64.StdEncoding.DecodeString(string(p.Salt))
	sealed, err2 := base64.StdEncoding.DecodeString(string(e.EncryptedData))
	header, err3 := base64.StdEncoding.DecodeString(string(e.EncryptionNonce))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, corrupt("the Ente Auth export's salt, data or nonce is not valid base64")
	}
	if len(salt) != 16 || len(header) != seal.SecretStreamHeaderBytes || len(sealed) < seal.SecretStreamABytes {
		return nil, corrupt("the Ente Auth export's salt, data or nonce has the wrong size")
	}
	if password == "" {
		if mem > heavyKDFBytes {
			return nil, errSlowPassword
		}
		return nil, ErrPasswordRequired
	}
	var key []byte
	err := im.withKDF(ctx, mem, func() {
		key = argon2.IDKey([]byte(password), salt, uint32(ops), uint32(mem/1024), 1, seal.SecretStreamKeyBytes)
	})
	if err != nil {
		return nil, err
	}
	puller, err := seal.NewStreamPuller(key, header)
	if err != nil {
		return nil, corrupt("%v", err)
	}
	plain, _, err := puller.Pull(sealed, nil)
	if err != nil {
		// Wrong password and damage look the same to an AEAD.
		return nil, ErrWrongPassword
	}
	text := string(plain)
	if strings.TrimSpace(text) == "" {
		return &Result{Format: "Ente Auth (encrypted)"}, nil
	}
	res, err := importText(text)
	if err != nil {
		return nil, err
	}
	res.Format = "Ente Auth (encrypted)"
	return res, nil
}
