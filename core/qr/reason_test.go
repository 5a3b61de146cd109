package qr

import (
	"context"
	"testing"
)

// TestReasonLeavesOutTheDecoder: bytes that are no image give the
// sentinel's words only, not Go's image decoder detail.
func TestReasonLeavesOutTheDecoder(t *testing.T) {
	t.Parallel()
	_, err := NewDecoder().Decode(context.Background(), []byte("not a picture at all"))
	if err == nil {
		t.Fatal("decoding text succeeded")
	}
	if got, want := Reason(err), "This is not an image I can read (send a PNG or JPEG)"; got != want {
		t.Errorf("Reason(%v) = %q, want %q", err, got, want)
	}
	if got := Reason(context.Canceled); got != "" {
		t.Errorf("Reason(context.Canceled) = %q, want none", got)
	}
}
