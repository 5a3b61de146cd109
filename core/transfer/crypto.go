package transfer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/scrypt"
)

// Key-derivation costs read from a file are capped before anything runs:
// a hostile file asking for scrypt N=2^30 would otherwise take gigabytes and
// minutes. Real files: Aegis uses N=2^15 r=8 p=1 (32 MiB); andOTP uses
// 140,000-160,000 PBKDF2 iterations.
const (
	maxScryptN       = 1 << 20
	maxScryptR       = 32
	maxScryptP       = 16
	maxScryptMem     = 1 << 20 // N*r, so 128*N*r bytes stay at or under 128 MiB
	maxScryptWork    = 1 << 22 // N*r*p
	maxPBKDF2Iter    = 10_000_000
	gcmNonceSize     = 12
	gcmTagSize       = 16
	aes256KeySize    = 32
	maxPasswordSlots = 3 // password slots tried per Aegis file, each an scrypt run
)

// errAuth is a failed GCM authentication: a wrong key or damaged bytes,
// which GCM cannot tell apart.
var errAuth = errors.New("message authentication failed")

// scryptKey derives an AES-256 key, refusing costs over the caps.
func scryptKey(password string, salt []byte, n, r, p int64) ([]byte, error) {
	if n < 2 || n > maxScryptN || n&(n-1) != 0 || r < 1 || r > maxScryptR || p < 1 || p > maxScryptP ||
		n*r > maxScryptMem || n*r*p > maxScryptWork {
		return nil, corrupt("the key-derivation settings (scrypt N=%d r=%d p=%d) are outside what I accept", n, r, p).with("kdf_limits")
	}
	k, err := scrypt.Key([]byte(password), salt, int(n), int(r), int(p), aes256KeySize)
	if err != nil {
		return nil, corrupt("scrypt: %v", err)
	}
	return k, nil
}

func pbkdf2Key(h func() hash.Hash, password string, salt []byte, iter int64) ([]byte, error) {
	if iter < 1 || iter > maxPBKDF2Iter {
		return nil, corrupt("the key-derivation setting (%d PBKDF2 iterations) is outside what I accept", iter).with("kdf_limits")
	}
	k, err := pbkdf2.Key(h, password, salt, int(iter), aes256KeySize)
	if err != nil {
		return nil, corrupt("pbkdf2: %v", err)
	}
	return k, nil
}

var (
	sha1New   = sha1.New
	sha256New = sha256.New
)

// gcmOpen decrypts ciphertext||tag with AES-GCM and a 12-byte nonce. Sizes
// are checked here because cipher.AEAD panics on a wrong nonce length.
func gcmOpen(key, nonce, sealed []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize || len(sealed) < gcmTagSize {
		return nil, errors.New("bad nonce or tag size")
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out, err := aead.Open(nil, nonce, sealed, nil)
	if err != nil {
		return nil, errAuth
	}
	return out, nil
}

// gcmSeal encrypts with AES-GCM under a fresh random 12-byte nonce; random
// nonces are safe here because every key seals only one or two messages.
func gcmSeal(key, plain []byte) (nonce, ciphertext, tag []byte, err error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, nil, nil, err
	}
	nonce = make([]byte, gcmNonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, nil, fmt.Errorf("random nonce: %w", err)
	}
	sealed := aead.Seal(nil, nonce, plain, nil)
	n := len(sealed) - gcmTagSize
	return nonce, sealed[:n], sealed[n:], nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// cbcOpen decrypts AES-CBC with PKCS#7 padding. ok is false for a wrong
// size or bad padding: CBC has no authentication, so a bad padding (or a
// plaintext that does not parse afterwards) is the only sign of a wrong key.
func cbcOpen(key, iv, ct []byte) (plain []byte, ok bool) {
	if len(iv) != aes.BlockSize || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	plain = make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, false
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, false
		}
	}
	return plain[:len(plain)-pad], true
}

// cbcFirstBlock decrypts only the first block of an AES-CBC ciphertext: a
// cheap test of a key against many files before decrypting one in full.
func cbcFirstBlock(key, iv, ct []byte) ([]byte, bool) {
	if len(iv) != aes.BlockSize || len(ct) < aes.BlockSize {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	out := make([]byte, aes.BlockSize)
	block.Decrypt(out, ct[:aes.BlockSize])
	for i := range out {
		out[i] ^= iv[i]
	}
	return out, true
}
