package postgres

import (
	"context"
	"testing"

	"github.com/authbot/authbot/storage/postgres/pgtest"
	"github.com/authbot/authbot/storage/storetest"
)

func TestMain(m *testing.M) {
	storetest.Child(openStore)
	pgtest.Main(m)
}

func openStore(ctx context.Context, dsn string) (storetest.Store, error) { return Open(ctx, dsn) }

var harness = storetest.Harness{New: pgtest.NewDB, Open: openStore, Shared: true}

// TestConformance is the suite every core.Store passes (storage/storetest),
// here against a real PostgreSQL.
func TestConformance(t *testing.T) { storetest.Run(t, harness) }

// TestService runs part of core's behaviour over PostgreSQL, with two
// Service+Store pairs on one database where the test allows.
func TestService(t *testing.T) { storetest.Service(t, harness) }

// BenchmarkCode and BenchmarkAdd: core's benchmarks of the same names over
// PostgreSQL (storage/bolt runs them over bbolt).
func BenchmarkCode(b *testing.B) { storetest.BenchCode(b, harness) }
func BenchmarkAdd(b *testing.B)  { storetest.BenchAdd(b, harness) }
