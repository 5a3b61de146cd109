package main

import (
	"context"
	"errors"
	"maps"
	"testing"
)

// fakeProgress is a Progress over a map, counting loads.
type fakeProgress struct {
	records map[string]map[int64]int
	loads   int
}

func (f *fakeProgress) LoadProgress(_ context.Context, name string) (map[int64]int, error) {
	f.loads++
	return maps.Clone(f.records[name]), nil
}

func (f *fakeProgress) SaveProgress(_ context.Context, name string, items map[int64]int) error {
	f.records[name] = maps.Clone(items)
	return nil
}

// TestReadProgress: the record read before serve holds reads answers the
// adapter's first load only; later loads and other names read the store,
// so what the adapter saved is what it loads again.
func TestReadProgress(t *testing.T) {
	ctx := context.Background()
	errRead := errors.New("read failed")
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"first load is the read one", nil},
		{"its error too", errRead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &fakeProgress{records: map[string]map[int64]int{"telegram": {7: 2}}}
			p := &readProgress{Progress: store, name: "telegram", items: map[int64]int{5: 1}, err: tc.err}
			got, err := p.LoadProgress(ctx, "telegram")
			if !errors.Is(err, tc.err) || (tc.err == nil && !maps.Equal(got, map[int64]int{5: 1})) {
				t.Fatalf("first load %v, %v; want the read record", got, err)
			}
			if store.loads != 0 {
				t.Fatalf("first load went to the store")
			}
			if got, _ := p.LoadProgress(ctx, "other"); len(got) != 0 || store.loads != 1 {
				t.Fatalf("another name: %v from %d store loads", got, store.loads)
			}
			if err := p.SaveProgress(ctx, "telegram", map[int64]int{9: 1}); err != nil {
				t.Fatal(err)
			}
			if got, err := p.LoadProgress(ctx, "telegram"); err != nil || !maps.Equal(got, map[int64]int{9: 1}) || store.loads != 2 {
				t.Fatalf("second load %v, %v (%d store loads); want what was saved", got, err, store.loads)
			}
		})
	}
}
