package core

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/authbot/authbot/core/otp"
)

// TestHOTPCounterNeverWraps: at the largest counter the next code is
// refused instead of wrapping to 0 and repeating every code given before.
func TestHOTPCounterNeverWraps(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	k := otp.Key{Issuer: "Old", Params: otp.Params{Kind: otp.HOTP, Secret: []byte("12345678901234567890"), Algorithm: otp.SHA1, Digits: 6, Counter: math.MaxUint64 - 1}}
	if _, err := svc.Add(ctx, "alice", NewAccount{Label: "old", Key: k}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Code(ctx, "alice", "old"); err != nil {
		t.Fatalf("last code: %v", err)
	}
	if _, err := svc.Code(ctx, "alice", "old"); !errors.Is(err, ErrCounterExhausted) {
		t.Fatalf("code past the end: %v", err)
	}
}
