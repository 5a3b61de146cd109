package core

import (
	"encoding/json"
	"math"
	"time"

	"github.com/authbot/authbot/core/seal"
)

// An audit block's plaintext was JSON; it is now a compact binary record
// (the events of a flush were marshalled by encoding/json, time.MarshalJSON
// for each, a third of /code's CPU amortized). The first byte tells them
// apart: auditBlockV2, where JSON starts with '{'. Old JSON blocks are
// still read, and a block whose times UnixNano cannot hold (before 1678 or
// after 2262) is still written as JSON. What is sealed, and how, is as it
// was: the same block under the same key and associated data.
//
//	auditBlockV2 || prev || count || per event: seq, time, type, person,
//	platform, vault, account, subject, detail
//
// Strings are a uvarint length and the bytes, numbers uvarints, times as
// in codec.go (0, or 1 and varint UnixNano, read back in UTC).
const auditBlockV2 byte = 2

// maxAuditEvents bounds the count a block may claim (a flush writes at
// most maxAuditBuffer).
const maxAuditEvents = 1 << 20

// encodeAuditBlock returns b's binary form, or nil when a time does not
// fit it.
func encodeAuditBlock(b *auditBlock) []byte {
	e := encoder{b: make([]byte, 0, 16+len(b.Prev)+len(b.Events)*64)}
	e.byte(auditBlockV2)
	e.str(b.Prev)
	e.uint(uint64(len(b.Events)))
	for i := range b.Events {
		ev := &b.Events[i]
		if !ev.Time.IsZero() && !unixNanoFits(ev.Time) {
			return nil
		}
		e.uint(ev.Seq)
		e.time(ev.Time)
		e.str(string(ev.Type))
		e.str(ev.Person)
		e.str(ev.Platform)
		e.str(ev.Vault)
		e.str(ev.Account)
		e.str(ev.Subject)
		e.str(ev.Detail)
	}
	return e.b
}

var (
	minUnixNano = time.Unix(0, math.MinInt64)
	maxUnixNano = time.Unix(0, math.MaxInt64)
)

func unixNanoFits(t time.Time) bool { return !t.Before(minUnixNano) && !t.After(maxUnixNano) }

func decodeAuditBlock(plain []byte, b *auditBlock) error {
	d := newDecoder(plain)
	if d.byte() != auditBlockV2 {
		d.fail()
	}
	b.Prev = d.str()
	n := d.small(maxAuditEvents)
	if n > len(plain) { // each event takes at least a byte
		d.fail()
		n = 0
	}
	b.Events = make([]Event, n)
	for i := range b.Events {
		ev := &b.Events[i]
		ev.Seq = d.uint()
		ev.Time = d.time()
		ev.Type = EventType(d.str())
		ev.Person, ev.Platform, ev.Vault = d.str(), d.str(), d.str()
		ev.Account, ev.Subject, ev.Detail = d.str(), d.str(), d.str()
	}
	return d.done()
}

// sealAuditBlock seals b under key with ad, binary unless a time needs JSON.
func sealAuditBlock(key *seal.Key, ad []byte, b *auditBlock) ([]byte, error) {
	plain := encodeAuditBlock(b)
	if plain == nil {
		return sealJSON(key, ad, b)
	}
	defer clear(plain)
	return seal.Seal(key, plain, ad)
}

// openAuditBlock opens a block sealed by sealAuditBlock or, before it,
// sealJSON. Errors: a *CorruptRecordError naming what.
func openAuditBlock(key *seal.Key, sealed, ad []byte, what string, b *auditBlock) error {
	plain, err := seal.Open(key, sealed, ad)
	if err != nil {
		return &CorruptRecordError{What: what, Err: err}
	}
	defer clear(plain)
	if len(plain) > 0 && plain[0] == auditBlockV2 {
		err = decodeAuditBlock(plain, b)
	} else {
		err = json.Unmarshal(plain, b)
	}
	if err != nil {
		return &CorruptRecordError{What: what, Err: err}
	}
	return nil
}
