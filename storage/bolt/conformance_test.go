package bolt

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/authbot/authbot/storage/storetest"
)

func TestMain(m *testing.M) {
	storetest.Child(openStore)
	os.Exit(m.Run())
}

func openStore(ctx context.Context, path string) (storetest.Store, error) {
	return Open(ctx, path, Options{})
}

var harness = storetest.Harness{
	New:  func(t testing.TB) string { return filepath.Join(t.TempDir(), "authbot.db") },
	Open: openStore,
}

// TestConformance is the suite every core.Store passes (storage/storetest).
func TestConformance(t *testing.T) { storetest.Run(t, harness) }

// TestService runs part of core's behaviour over a real bbolt file.
func TestService(t *testing.T) { storetest.Service(t, harness) }

// BenchmarkCode and BenchmarkAdd: core's benchmarks of the same names, in
// the shape storage/postgres runs them, for figures side by side.
func BenchmarkCode(b *testing.B) { storetest.BenchCode(b, harness) }
func BenchmarkAdd(b *testing.B)  { storetest.BenchAdd(b, harness) }
