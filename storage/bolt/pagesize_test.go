package bolt

import (
	"context"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// TestPageSizes: new files get pageSize; a file made with other pages
// (databases from before, 4 KiB) opens, serves and takes writes as it is.
func TestPageSizes(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		make    int // 0: let Open create the file
		want    int
		records int
	}{
		{"new file", 0, pageSize, 300},
		{"existing 4 KiB pages", 4096, 4096, 300},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := dbPath(t)
			if c.make != 0 {
				db, err := bbolt.Open(path, 0o600, &bbolt.Options{PageSize: c.make})
				if err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			s := openT(t, path, Options{})
			ref := func(i int) core.Ref {
				return core.Ref{Kind: "account", Owner: "o", ID: string(rune('a'+i%26)) + string(rune(i))}
			}
			err := s.Update(ctx, func(tx core.Tx) error {
				for i := range c.records {
					if err := tx.Put(ref(i), make([]byte, 150)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.db.Info().PageSize; got != c.want {
				t.Errorf("page size %d, want %d", got, c.want)
			}
			s.Close()
			s = openT(t, path, Options{ReadOnly: true})
			defer s.Close()
			if err := s.View(ctx, func(tx core.Tx) error {
				ids, err := tx.List("account", "o")
				if err == nil && len(ids) != c.records {
					t.Errorf("%d records after reopen, want %d", len(ids), c.records)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
