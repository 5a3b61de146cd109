package core

import (
	"bytes"
	"testing"

	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
)

// TestPooledStatesCleared checks that Code's pooled states go back to
// their pools holding no key bytes, secret or record reference: only the
// callback bound once survives a release.
func TestPooledStatesCleared(t *testing.T) {
	for _, size := range []int{64, maxCodeBuf + 1} {
		op := new(codeOp)
		op.fn, op.peekFn = op.view, op.openAccount
		op.person, op.query, op.logged = "p", "q", "l"
		op.sp.ownVault.key = seal.Key{1, 2, 3}
		op.sp.own = &op.sp.ownVault
		op.v, op.id = &op.sp.ownVault, "id"
		op.buf = make([]byte, size)
		copy(op.buf[10:], "secret")
		buf := op.buf
		op.a.OTP = otp.Params{Secret: op.buf[10:16]}
		op.out.Code = "123456"
		op.release()
		if op.fn == nil || op.peekFn == nil {
			t.Fatal("release dropped a bound callback")
		}
		if op.sp.ownVault.key != (seal.Key{}) || op.sp.own != nil || op.a.OTP.Secret != nil || op.v != nil || op.id != "" ||
			op.person != "" || op.query != "" || op.logged != "" || op.out.Code != "" || op.s != nil {
			t.Errorf("codeOp not cleared on release (buffer %d)", size)
		}
		if !bytes.Equal(buf, make([]byte, size)) {
			t.Errorf("the plaintext buffer (%d) was not zeroed", size)
		}
		if len(op.buf) != 0 || (size > maxCodeBuf) != (op.buf == nil) {
			t.Errorf("buffer of %d kept as len %d cap %d", size, len(op.buf), cap(op.buf))
		}
	}

	var k seal.Key
	pk := &personPeek{s: &Service{}, out: &k, owner: "o", hit: true}
	pk.fn = pk.peek
	pk.release()
	if pk.fn == nil || pk.s != nil || pk.out != nil || pk.owner != "" || pk.hit {
		t.Error("personPeek not cleared on release")
	}

	ip := &indexPeek{v: &vault{}, hit: true}
	ip.fn = ip.peek
	ip.release()
	if ip.fn == nil || ip.v != nil || ip.hit {
		t.Error("indexPeek not cleared on release")
	}
}
