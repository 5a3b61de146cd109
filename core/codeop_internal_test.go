package core

import (
	"testing"

	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
)

// TestPooledStatesCleared checks that Code's pooled states go back to
// their pools holding no key bytes, secret or record reference: only the
// callback bound once survives a release.
func TestPooledStatesCleared(t *testing.T) {
	op := new(codeOp)
	op.fn = op.view
	op.person, op.query, op.logged = "p", "q", "l"
	op.sp.ownVault.key = seal.Key{1, 2, 3}
	op.sp.own = &op.sp.ownVault
	op.a.OTP = otp.Params{Secret: []byte("secret")}
	op.out.Code = "123456"
	op.release()
	if op.fn == nil {
		t.Fatal("release dropped the bound callback")
	}
	if op.sp.ownVault.key != (seal.Key{}) || op.sp.own != nil || op.a.OTP.Secret != nil ||
		op.person != "" || op.query != "" || op.logged != "" || op.out.Code != "" || op.s != nil {
		t.Error("codeOp not cleared on release")
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
