package otp

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
)

// hmacKey is an HMAC key (RFC 2104) padded to the hash's block, kept in a
// value so that a code is worked out on the stack: crypto/hmac allocates
// its two hash states and pads for every key (seven allocations per code).
// The one-shot sha1.Sum, sha256.Sum256 and sha512.Sum512 over stack
// buffers allocate nothing. The tests check the RFC 4226 and RFC 6238
// vectors and agreement with crypto/hmac for random keys and counters.
type hmacKey struct {
	alg Algorithm
	bs  int                    // block size of alg
	k   [sha512.BlockSize]byte // key, or its hash when longer than bs; zero padded
}

// init keys hk with key for alg (SHA1 unless SHA256 or SHA512; Validate
// has vouched for it). A key longer than the block is hashed first.
func (hk *hmacKey) init(alg Algorithm, key []byte) {
	hk.alg = alg
	switch alg {
	case SHA256:
		hk.bs = sha256.BlockSize
	case SHA512:
		hk.bs = sha512.BlockSize
	default:
		hk.bs = sha1.BlockSize
	}
	clear(hk.k[:])
	if len(key) > hk.bs {
		var sum [sha512.Size]byte
		n := hashInto(alg, key, &sum)
		copy(hk.k[:], sum[:n])
		clear(sum[:])
		return
	}
	copy(hk.k[:], key)
}

// wipe zeroes the key.
func (hk *hmacKey) wipe() { clear(hk.k[:]) }

// sumCounter writes HMAC(key, big-endian counter) to out and returns the
// part of out that holds it.
func (hk *hmacKey) sumCounter(counter uint64, out *[sha512.Size]byte) []byte {
	var buf [sha512.BlockSize + sha512.Size]byte
	bs := hk.bs
	for i := range bs {
		buf[i] = hk.k[i] ^ 0x36
	}
	binary.BigEndian.PutUint64(buf[bs:], counter)
	n := hashInto(hk.alg, buf[:bs+8], out)
	for i := range bs {
		buf[i] = hk.k[i] ^ 0x5c
	}
	copy(buf[bs:], out[:n])
	n = hashInto(hk.alg, buf[:bs+n], out)
	clear(buf[:])
	return out[:n]
}

// hashInto writes alg's hash of data to out and returns its length.
func hashInto(alg Algorithm, data []byte, out *[sha512.Size]byte) int {
	switch alg {
	case SHA256:
		s := sha256.Sum256(data)
		return copy(out[:], s[:])
	case SHA512:
		s := sha512.Sum512(data)
		return copy(out[:], s[:])
	}
	s := sha1.Sum(data)
	return copy(out[:], s[:])
}
