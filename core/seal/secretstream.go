package seal

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305" //lint:ignore SA1019 secretstream is defined on raw Poly1305; this is the building block it needs
)

// Secretstream opens libsodium's crypto_secretstream_xchacha20poly1305, the
// format Ente Auth seals its encrypted export in. No maintained Go module
// for it is served by the module proxy, so it is written here from
// libsodium's specification: "Encrypted streams and file encryption"
// (doc.libsodium.org/secret-key_cryptography/secretstream) and its reference
// code, src/libsodium/crypto_secretstream/xchacha20poly1305/secretstream_xchacha20poly1305.c.
// Vectors made by libsodium itself check it (secretstream_test.go).
//
// The state is a subkey k = HChaCha20(key, header[0:16]) and a 12-byte
// ChaCha20-IETF nonce: a 4-byte little-endian counter starting at 1, then
// header[16:24] (the "inonce"). Each message is
//
//	c = E(tag) (1 byte) || E(message) || MAC (16 bytes)
//
// where block 0 of the keystream is the Poly1305 key, the tag is encrypted
// as the first byte of a 64-byte block at block counter 1, and the message
// from block counter 2 on. The MAC covers the associated data (padded to 16
// bytes), that whole 64-byte block (with the encrypted tag byte in place),
// the ciphertext (followed by mlen%16 zero bytes: libsodium's padding
// formula, see Pull), and the two lengths (64 + message length) as
// little-endian uint64s. After a message the first 8 bytes of its MAC are
// XORed into the inonce and the counter is incremented; a REKEY tag or a
// wrapped counter derives a new subkey and inonce.

// Sizes and tags of crypto_secretstream_xchacha20poly1305.
const (
	SecretStreamKeyBytes    = 32
	SecretStreamHeaderBytes = 24
	SecretStreamABytes      = 1 + poly1305.TagSize

	SecretStreamTagMessage = 0x00
	SecretStreamTagPush    = 0x01
	SecretStreamTagRekey   = 0x02
	SecretStreamTagFinal   = SecretStreamTagPush | SecretStreamTagRekey
)

const streamInonceBytes = 8

// ErrStreamAuth: a secretstream message failed authentication (wrong key,
// damage, truncation or reordering, which the stream cannot tell apart).
var ErrStreamAuth = errors.New("secretstream message failed authentication")

// StreamPuller opens the messages of one secretstream in order.
type StreamPuller struct {
	k     [32]byte
	nonce [12]byte // counter (4, little-endian) || inonce (8)
}

// NewStreamPuller starts reading a stream sealed under key with header (the
// first 24 bytes the pushing side wrote).
func NewStreamPuller(key, header []byte) (*StreamPuller, error) {
	if len(key) != SecretStreamKeyBytes || len(header) != SecretStreamHeaderBytes {
		return nil, errors.New("secretstream: key must be 32 bytes and header 24")
	}
	sub, err := chacha20.HChaCha20(key, header[:16])
	if err != nil {
		return nil, err
	}
	s := &StreamPuller{}
	copy(s.k[:], sub)
	s.resetCounter()
	copy(s.nonce[4:], header[16:])
	return s, nil
}

func (s *StreamPuller) resetCounter() {
	binary.LittleEndian.PutUint32(s.nonce[:4], 1)
}

// Pull authenticates and decrypts the next message c (with its associated
// data ad, usually nil) and returns the plaintext and its tag. A failure
// leaves the state as it was.
func (s *StreamPuller) Pull(c, ad []byte) (msg []byte, tag byte, err error) {
	if len(c) < SecretStreamABytes {
		return nil, 0, ErrStreamAuth
	}
	mlen := len(c) - SecretStreamABytes
	stream := func(counter uint32) *chacha20.Cipher {
		// Errors only for wrong key or nonce sizes, fixed above.
		ch, _ := chacha20.NewUnauthenticatedCipher(s.k[:], s.nonce[:])
		ch.SetCounter(counter)
		return ch
	}

	var block [64]byte
	stream(0).XORKeyStream(block[:], block[:])
	var polyKey [32]byte
	copy(polyKey[:], block[:32])
	mac := poly1305.New(&polyKey)
	var zero [16]byte
	mac.Write(ad)
	mac.Write(zero[:(16-len(ad)%16)%16])

	clear(block[:])
	block[0] = c[0]
	stream(1).XORKeyStream(block[:], block[:])
	tag = block[0]
	block[0] = c[0]
	mac.Write(block[:])

	body := c[1 : 1+mlen]
	mac.Write(body)
	// libsodium pads here with (0x10 - sizeof block + mlen) & 0xf zero
	// bytes, which is mlen%16, not the distance to a 16-byte boundary. It
	// must be copied exactly, quirk included, to interoperate.
	mac.Write(zero[:mlen%16])
	var lens [16]byte
	binary.LittleEndian.PutUint64(lens[:8], uint64(len(ad)))
	binary.LittleEndian.PutUint64(lens[8:], uint64(64+mlen))
	mac.Write(lens[:])
	sum := mac.Sum(nil)
	stored := c[1+mlen:]
	if subtle.ConstantTimeCompare(sum, stored) != 1 {
		return nil, 0, ErrStreamAuth
	}

	msg = make([]byte, mlen)
	stream(2).XORKeyStream(msg, body)

	for i := range streamInonceBytes {
		s.nonce[4+i] ^= stored[i]
	}
	ctr := binary.LittleEndian.Uint32(s.nonce[:4]) + 1
	binary.LittleEndian.PutUint32(s.nonce[:4], ctr)
	if tag&SecretStreamTagRekey != 0 || ctr == 0 {
		s.rekey()
	}
	return msg, tag, nil
}

// rekey is crypto_secretstream_xchacha20poly1305_rekey: the subkey and
// inonce are XORed with the keystream under the current state.
func (s *StreamPuller) rekey() {
	var buf [32 + streamInonceBytes]byte
	copy(buf[:32], s.k[:])
	copy(buf[32:], s.nonce[4:])
	ch, _ := chacha20.NewUnauthenticatedCipher(s.k[:], s.nonce[:])
	ch.XORKeyStream(buf[:], buf[:])
	copy(s.k[:], buf[:32])
	copy(s.nonce[4:], buf[32:])
	s.resetCounter()
}
