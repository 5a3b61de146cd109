package bolt

import (
	"context"
	"fmt"
	"testing"

	"github.com/authbot/authbot/core"
	bbolt "go.etcd.io/bbolt"
)

// benchDB is a store shaped like a busy family install: 1000 records of
// 300 bytes (a sealed account) over 20 owners.
func benchDB(b *testing.B) (*Store, []core.Ref) {
	s := openT(b, dbPath(b), Options{})
	refs := make([]core.Ref, 1000)
	for i := range refs {
		refs[i] = core.Ref{Kind: "vault", Owner: fmt.Sprintf("owner%02d", i%20), ID: fmt.Sprintf("id%04d", i)}
	}
	v := make([]byte, 300)
	err := s.Update(context.Background(), func(tx core.Tx) error {
		for _, r := range refs {
			if err := tx.Put(r, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, refs
}

func BenchmarkGet(b *testing.B) {
	s, refs := benchDB(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := refs[i%len(refs)]
		i++
		err := s.View(ctx, func(tx core.Tx) error { _, err := tx.Get(r); return err })
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate is one durable (fsynced) write transaction of one record.
func BenchmarkUpdate(b *testing.B) {
	s, _ := benchDB(b)
	ctx := context.Background()
	v := make([]byte, 300)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := core.Ref{Kind: "vault", Owner: "bench", ID: fmt.Sprint(i % 100)}
		i++
		if err := s.Update(ctx, func(tx core.Tx) error { return tx.Put(r, v) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenCheck measures Open of an existing 1000-record file, which
// includes the read-only consistency check; BenchmarkOpenNoCheck is the
// same open without it, to show what the check costs.
func BenchmarkOpenCheck(b *testing.B) {
	s, _ := benchDB(b)
	path := s.Path()
	s.Close()
	ctx := context.Background()
	for b.Loop() {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkOpenNoCheck(b *testing.B) {
	s, _ := benchDB(b)
	path := s.Path()
	s.Close()
	for b.Loop() {
		db, err := openBolt(path, &bbolt.Options{Timeout: DefaultTimeout})
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// BenchmarkViewPeek3 is the storage part of a /code: one read transaction
// that finds three records (a person's key, their index, one account)
// among the 1,000 of benchDB, through this package's Store.
func BenchmarkViewPeek3(b *testing.B) {
	s, refs := benchDB(b)
	ctx := context.Background()
	want := [3]core.Ref{refs[3], refs[503], refs[997]}
	n := 0
	fn := func(v []byte) error { n += len(v); return nil }
	view := func(tx core.Tx) error {
		p := tx.(core.Peeker)
		for _, r := range want {
			if err := p.Peek(r, fn); err != nil {
				return err
			}
		}
		return nil
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.View(ctx, view); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltViewSeek3 is the same reads with bbolt alone: what any
// read of three records costs before this package does anything (Begin,
// the bucket, a cursor and three seeks).
func BenchmarkBoltViewSeek3(b *testing.B) {
	s, _ := benchDB(b)
	var keys [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte(recordsBucket)).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil || len(keys) < 1000 {
		b.Fatal(len(keys), err)
	}
	want := [3][]byte{keys[3], keys[len(keys)/2], keys[len(keys)-3]}
	n := 0
	view := func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte(recordsBucket)).Cursor()
		for _, k := range want {
			_, v := c.Seek(k)
			n += len(v)
		}
		return nil
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.db.View(view); err != nil {
			b.Fatal(err)
		}
	}
}
