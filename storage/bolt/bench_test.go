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
