package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestWrapToUnwrapFrom(t *testing.T) {
	priv, pub, err := NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	other, otherPub, _ := NewKeyPair()
	k, _ := NewKey()
	ad := []byte("vaultkey|alice|v1")
	box, err := WrapTo(pub, &k, ad)
	if err != nil {
		t.Fatal(err)
	}
	if !IsBox(box) || len(box) != BoxOverhead+KeySize {
		t.Fatalf("box: %d bytes, IsBox %v", len(box), IsBox(box))
	}
	got, err := UnwrapFrom(&priv, box, ad)
	if err != nil || got != k {
		t.Fatalf("unwrap: %v", err)
	}
	box2, _ := WrapTo(pub, &k, ad)
	if bytes.Equal(box, box2) {
		t.Error("two boxes of the same key are equal: no fresh ephemeral key")
	}
	sealed, _ := Wrap(&k, &k, ad)
	otherBox, _ := WrapTo(otherPub, &k, ad)
	bad := map[string]func() (Key, error){
		"wrong private key": func() (Key, error) { return UnwrapFrom(&other, box, ad) },
		"wrong ad":          func() (Key, error) { return UnwrapFrom(&priv, box, []byte("vaultkey|bob|v1")) },
		"boxed to another":  func() (Key, error) { return UnwrapFrom(&priv, otherBox, ad) },
		"a symmetric wrap":  func() (Key, error) { return UnwrapFrom(&priv, sealed, ad) },
		"truncated":         func() (Key, error) { return UnwrapFrom(&priv, box[:len(box)-1], ad) },
		"flipped bit": func() (Key, error) {
			b := bytes.Clone(box)
			b[40] ^= 1
			return UnwrapFrom(&priv, b, ad)
		},
		"other ephemeral key": func() (Key, error) {
			b := bytes.Clone(box)
			copy(b[1:1+PublicKeySize], otherBox[1:1+PublicKeySize])
			return UnwrapFrom(&priv, b, ad)
		},
		"as a record": func() (Key, error) { _, err := Open(&priv, box, ad); return Key{}, err },
	}
	for name, f := range bad {
		if _, err := f(); !errors.Is(err, ErrAuth) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := WrapTo(make([]byte, PublicKeySize), &k, ad); err == nil {
		t.Error("sealed to the all-zero (low-order) point")
	}
	if _, err := WrapTo(pub[:31], &k, ad); err == nil {
		t.Error("sealed to a short public key")
	}
}

func BenchmarkUnwrapFrom(b *testing.B) {
	priv, pub, _ := NewKeyPair()
	k, _ := NewKey()
	box, _ := WrapTo(pub, &k, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnwrapFrom(&priv, box, nil); err != nil {
			b.Fatal(err)
		}
	}
}
