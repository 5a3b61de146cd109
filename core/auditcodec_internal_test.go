package core

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/authbot/authbot/core/seal"
)

func testBlock(t0 time.Time) auditBlock {
	return auditBlock{Prev: "abc123", Events: []Event{
		{Seq: 1, Time: t0, Type: EventCode, Person: "p1", Platform: "telegram", Account: "aws"},
		{Seq: 2, Time: t0.Add(time.Nanosecond), Type: EventMemberAdded, Person: "p2", Vault: "team", Subject: "p3", Detail: "admin"},
		{Seq: 3, Type: EventLock, Person: "ünï", Detail: "wrong passphrase"},
	}}
}

// TestAuditBlockCodec checks the binary audit block against the JSON one:
// both open to the same events, old JSON blocks still open, a time that
// UnixNano cannot hold is written as JSON, and damaged binary is refused.
func TestAuditBlockCodec(t *testing.T) {
	key := seal.Key{7}
	ad := auditAD("0000000000000001")
	in := testBlock(time.Date(2026, 12, 2, 13, 0, 0, 123456789, time.UTC))

	sealed, err := sealAuditBlock(&key, ad, &in)
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := seal.Open(&key, sealed, ad); len(plain) == 0 || plain[0] != auditBlockV2 {
		t.Fatalf("not written in the binary form")
	}
	var bin, js auditBlock
	if err := openAuditBlock(&key, sealed, ad, "audit record", &bin); err != nil {
		t.Fatal(err)
	}
	old, err := sealJSON(&key, ad, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := openAuditBlock(&key, old, ad, "audit record", &js); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bin, js) {
		t.Errorf("binary block %+v\nJSON block   %+v", bin, js)
	}
	if !reflect.DeepEqual(bin.Events[1:], in.Events[1:]) || !bin.Events[0].Time.Equal(in.Events[0].Time) {
		t.Errorf("binary block %+v, want %+v", bin, in)
	}

	far := testBlock(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))
	sealed, err = sealAuditBlock(&key, ad, &far)
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := seal.Open(&key, sealed, ad); len(plain) == 0 || plain[0] != '{' {
		t.Errorf("a time past 2262 not written as JSON")
	}
	var back auditBlock
	if err := openAuditBlock(&key, sealed, ad, "audit record", &back); err != nil || !back.Events[0].Time.Equal(far.Events[0].Time) {
		t.Errorf("far block: %v, %v", back.Events, err)
	}

	plain := encodeAuditBlock(&in)
	for _, bad := range [][]byte{plain[:len(plain)-1], append(append([]byte{}, plain...), 0), {auditBlockV2, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}} {
		damaged, err := seal.Seal(&key, bad, ad)
		if err != nil {
			t.Fatal(err)
		}
		var b auditBlock
		var ce *CorruptRecordError
		if err := openAuditBlock(&key, damaged, ad, "audit record", &b); !errors.As(err, &ce) {
			t.Errorf("damaged block %x: %v, want a *CorruptRecordError", bad, err)
		}
	}
}

// FuzzAuditBlockDecode: any plaintext decodes or is refused, never panics,
// and what decodes encodes back to the same bytes.
func FuzzAuditBlockDecode(f *testing.F) {
	in := testBlock(time.Unix(1_700_000_000, 5).UTC())
	f.Add(encodeAuditBlock(&in))
	f.Add([]byte{auditBlockV2})
	f.Fuzz(func(t *testing.T, plain []byte) {
		var b auditBlock
		if decodeAuditBlock(plain, &b) != nil {
			return
		}
		if got := encodeAuditBlock(&b); string(got) != string(plain) {
			// Varints have more than one spelling; the decoded events
			// must at least survive a second round.
			var b2 auditBlock
			if err := decodeAuditBlock(got, &b2); err != nil || !reflect.DeepEqual(b, b2) {
				t.Fatalf("round trip: %v\n%+v\n%+v", err, b, b2)
			}
		}
	})
}
