package seal

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// Public-key sealing ("sealed boxes").
//
// Each person has an X25519 key pair. Anyone may seal to the public key;
// only the private key opens. core uses it to hand a member a new vault key
// while that member is locked (their symmetric data key is then out of
// reach, but their public key is not), so a locked member never blocks a
// removal.
//
// The construction is the one of age's X25519 recipient and libsodium's
// sealed box, with the primitives already used here:
//
//		box = formatBox (1) || ephemeral public key (32) || nonce (24) || XChaCha20-Poly1305(k, plaintext)
//		k   = HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = ephemeral pub || recipient pub, info = domain)
//
//	  - X25519 (crypto/ecdh, the standard library's constant-time
//	    implementation) because it is the small, misuse-resistant
//	    Diffie-Hellman with 128-bit security; ecdh refuses low-order points
//	    (an all-zero shared secret), so a forged public key cannot force a
//	    known key.
//	  - A fresh ephemeral key per box: the sender keeps no key, and every box
//	    has its own k.
//	  - Both public keys in the HKDF salt bind k to this exchange, so a box
//	    cannot be re-targeted to another recipient (as age does).
//	  - XChaCha20-Poly1305 with a random nonce, exactly as Seal: k is already
//	    unique per box, the random nonce costs nothing and keeps one code
//	    path for the AEAD.
//	  - The caller's associated data and a domain are authenticated as in
//	    Seal, so a box made for one slot never opens in another.
const (
	formatBox byte = 2

	// PublicKeySize is the size of an X25519 public key.
	PublicKeySize = 32

	// BoxOverhead is what SealTo adds to a plaintext.
	BoxOverhead = 1 + PublicKeySize + nonceSize + chacha20poly1305.Overhead

	domainBox    = "authbot sealed box\x00"
	domainBoxKey = "authbot sealed box key\x00"
)

// NewKeyPair returns a new X25519 private key (as a Key, so it is zeroed
// and redacted like every other key) and its public key.
func NewKeyPair() (Key, []byte, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, nil, fmt.Errorf("new key pair: %w", err)
	}
	var k Key
	copy(k[:], priv.Bytes())
	return k, priv.PublicKey().Bytes(), nil
}

// IsBox reports whether b was made by SealTo or WrapTo rather than by Seal
// or Wrap: the format byte tells them apart.
func IsBox(b []byte) bool { return len(b) > 0 && b[0] == formatBox }

// WrapTo seals data key k to the public key pub: only the matching private
// key opens it (UnwrapFrom). ad binds it to its slot as in Wrap.
func WrapTo(pub []byte, k *Key, ad []byte) ([]byte, error) {
	return sealTo(pub, domainBoxKey, k[:], ad)
}

// UnwrapFrom opens a key made by WrapTo with the private key. Any failure
// is ErrAuth.
func UnwrapFrom(priv *Key, box, ad []byte) (Key, error) {
	p, err := openFrom(priv, domainBoxKey, box, ad)
	if err != nil {
		return Key{}, err
	}
	return keyFrom(p)
}

func sealTo(pub []byte, domain string, plaintext, ad []byte) ([]byte, error) {
	rpub, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("seal to: %w", err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal to: %w", err)
	}
	shared, err := eph.ECDH(rpub)
	if err != nil {
		return nil, errors.New("seal to: unusable public key")
	}
	epub := eph.PublicKey().Bytes()
	k := boxKey(shared, epub, pub)
	clear(shared)
	defer Zero(&k)
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, fmt.Errorf("seal to: %w", err)
	}
	out := make([]byte, 1+PublicKeySize+nonceSize, BoxOverhead+len(plaintext))
	out[0] = formatBox
	copy(out[1:], epub)
	if _, err := io.ReadFull(rand.Reader, out[1+PublicKeySize:]); err != nil {
		return nil, fmt.Errorf("seal to: read nonce: %w", err)
	}
	return aead.Seal(out, out[1+PublicKeySize:], plaintext, fullAD(formatBox, domain, ad, nil)), nil
}

func openFrom(priv *Key, domain string, box, ad []byte) ([]byte, error) {
	if priv == nil || len(box) < BoxOverhead || box[0] != formatBox {
		return nil, ErrAuth
	}
	sk, err := ecdh.X25519().NewPrivateKey(priv[:])
	if err != nil {
		return nil, ErrAuth
	}
	epub := box[1 : 1+PublicKeySize]
	eph, err := ecdh.X25519().NewPublicKey(epub)
	if err != nil {
		return nil, ErrAuth
	}
	shared, err := sk.ECDH(eph)
	if err != nil {
		return nil, ErrAuth
	}
	k := boxKey(shared, epub, sk.PublicKey().Bytes())
	clear(shared)
	defer Zero(&k)
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, ErrAuth
	}
	nonce, ct := box[1+PublicKeySize:1+PublicKeySize+nonceSize], box[1+PublicKeySize+nonceSize:]
	p, err := aead.Open(make([]byte, 0, len(ct)-chacha20poly1305.Overhead), nonce, ct, fullAD(formatBox, domain, ad, nil))
	if err != nil {
		return nil, ErrAuth
	}
	return p, nil
}

// boxKey is HKDF-SHA256 over the shared secret, salted with both public
// keys (see above).
func boxKey(shared, epub, rpub []byte) Key {
	salt := make([]byte, 0, 2*PublicKeySize)
	salt = append(append(salt, epub...), rpub...)
	r := hkdf.New(sha256.New, shared, salt, []byte("authbot sealed box v1"))
	var k Key
	if _, err := io.ReadFull(r, k[:]); err != nil {
		panic("seal: hkdf: " + err.Error())
	}
	return k
}
