package core

import (
	"context"
	"strings"
	"testing"

	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
)

// owner is the storage id of person, for tests that look at raw records;
// "" for a person never seen.
func (s *Service) owner(person string) string {
	var o string
	_ = s.store.View(context.Background(), func(tx Tx) error {
		var err error
		o, err = s.ownerOf(tx, person, false)
		return err
	})
	return o
}

// TestNewOwnerIDsFollowEachOther: each new owner id sorts after every
// person's id before it, random (legacy) ones included, is in seal.NewID's
// form, and two made from the same highest one differ; with no number
// left above the highest, the id is random.
func TestNewOwnerIDsFollowEachOther(t *testing.T) {
	tx := &memTx{data: map[Ref][]byte{}, writable: true}
	newID := func() string {
		t.Helper()
		id, err := newOwnerID(tx)
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != ownerIDLen || !ownerSeq(id) {
			t.Fatalf("owner id %q is not 22 characters of base64url's alphabet", id)
		}
		return id
	}
	add := func(id string) { tx.data[personRef(id)] = []byte{1} }
	legacy, err := seal.NewID()
	if err != nil {
		t.Fatal(err)
	}
	add(legacy)
	add("not-an-owner-id") // another form: passed over
	last := legacy
	for range 70 { // past a carry into the second-last digit
		id := newID()
		if id <= last {
			t.Fatalf("owner id %q after %q", id, last)
		}
		add(id)
		last = id
	}
	if a, b := newID(), newID(); a == b || a[:ownerSeqLen] != b[:ownerSeqLen] {
		t.Errorf("two ids from the same highest one: %q, %q", a, b)
	}
	add(strings.Repeat("z", ownerIDLen))
	a, b := newID(), newID()
	if a == b || a[:ownerSeqLen] == b[:ownerSeqLen] {
		t.Errorf("with no number left: %q, %q, want random ids", a, b)
	}
}

// TestPeopleStoredInOrder: people first seen one after the other get
// owner ids in that order.
func TestPeopleStoredInOrder(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	var last string
	for _, person := range []string{"zoe", "alice", "bob"} {
		p := otp.Default(otp.TOTP)
		p.Secret = rfcSecret
		if _, err := svc.Add(context.Background(), person, NewAccount{Key: otp.Key{Issuer: "GitHub", Params: p}}); err != nil {
			t.Fatal(err)
		}
		o := svc.owner(person)
		if o <= last {
			t.Errorf("%s's owner id %q sorts before the one before, %q", person, o, last)
		}
		last = o
	}
}
