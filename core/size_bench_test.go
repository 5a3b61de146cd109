package core_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/internal/testkit"
)

// BenchmarkDBSize writes accounts the way imports do (AddMany batches, each
// a durable write) into a real bbolt file and reports what they cost on
// disk (issue 21, item 2):
//
//   - B/account: the pages the file uses (bbolt's high-water mark, what a
//     copy of the file needs), per account;
//   - file-B/account: the file's apparent size, which bbolt grows by
//     doubling (32 KiB ... 1 GiB), per account;
//   - fill-%: the share of bbolt's leaf and branch pages holding data
//     (as `bbolt stats` counts it).
//
// Each iteration builds the whole file, so -benchtime 1x is one build.
func BenchmarkDBSize(b *testing.B) {
	for _, c := range []struct {
		name            string
		people, perUser int
		batch           int
	}{
		{"1x1000", 1, 1000, 1000},      // one person imports 1,000 accounts
		{"1x1000-by100", 1, 1000, 100}, // ... in ten imports of 100
		{"1000x50", 1000, 50, 50},      // 1,000 people import 50 each
	} {
		b.Run(c.name, func(b *testing.B) {
			var m dbSize
			for b.Loop() {
				m = buildDB(b, c.people, c.perUser, c.batch)
			}
			n := float64(c.people * c.perUser)
			b.ReportMetric(float64(m.used)/n, "B/account")
			b.ReportMetric(float64(m.file)/n, "file-B/account")
			b.ReportMetric(100*m.fill, "fill-%")
			b.ReportMetric(float64(m.pageSize), "page-B")
		})
	}
}

type dbSize struct {
	used, file int64 // bytes of pages in use (high-water mark), bytes of the file
	fill       float64
	pageSize   int
}

func buildDB(b *testing.B, people, perPerson, batch int) dbSize {
	b.Helper()
	path := filepath.Join(b.TempDir(), "authbot.db")
	key := testkit.Key(b)
	svc, store := openService(b, path, key)
	ctx := context.Background()
	for p := 0; p < people; p++ {
		person := fmt.Sprintf("person%d", p)
		for start := 0; start < perPerson; start += batch {
			var keys []core.NewAccount
			for i := start; i < min(start+batch, perPerson); i++ {
				pr := otp.Default(otp.TOTP)
				pr.Secret = append(secret(i+1), byte(p), byte(p>>8))
				keys = append(keys, core.NewAccount{Label: fmt.Sprintf("service%d", i),
					Key: otp.Key{Issuer: fmt.Sprintf("Service %d", i), Account: "someone@example.org", Params: pr}})
			}
			if _, err := svc.AddMany(ctx, person, keys); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := svc.FlushAudit(ctx); err != nil {
		b.Fatal(err)
	}
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	return measureDB(b, path)
}

// measureDB reads a closed bbolt file's size and page statistics.
func measureDB(tb testing.TB, path string) dbSize {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	out := dbSize{file: fi.Size()}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		out.used = tx.Size()
		out.pageSize = tx.DB().Info().PageSize
		var inuse, alloc int
		err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			s := b.Stats() // nested buckets included
			inuse += s.BranchInuse + s.LeafInuse
			alloc += s.BranchAlloc + s.LeafAlloc
			tb.Logf("%-14s %7d keys %6d leaf pages %9d bytes in use of %9d", name, s.KeyN, s.LeafPageN, s.BranchInuse+s.LeafInuse+s.InlineBucketInuse, s.BranchAlloc+s.LeafAlloc)
			return nil
		})
		if alloc > 0 {
			out.fill = float64(inuse) / float64(alloc)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
