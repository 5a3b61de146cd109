//go:build goolm

package matrixfailover

import (
	"os"
	"testing"

	"github.com/authbot/authbot/bots/matrix/matrixtest"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/postgres/pgtest"
)

// A Dendrite of this package's own, from the same pinned build and
// scripts/dendrite.sh setup as bots/matrix's tests (matrixtest).

var (
	hs    *homeserver
	hsErr error
)

// homeserver is the real Dendrite the test talks to.
type homeserver = matrixtest.Homeserver

// TestMain starts Dendrite and PostgreSQL once for the package; each test
// takes a database of its own (pgtest.NewDatabase).
func TestMain(m *testing.M) {
	os.Exit(func() int {
		hs, hsErr = matrixtest.Start("authbot-mxfailover-dendrite-")
		if hs != nil {
			defer hs.Stop()
		}
		defer testkit.RemoveBuilds()
		return pgtest.Run(m)
	}())
}

// needHomeserver fails the test when Dendrite could not start under
// CI=true, and skips it (saying why) otherwise.
func needHomeserver(t testing.TB) *homeserver {
	t.Helper()
	return matrixtest.Need(t, hs, hsErr, "the Matrix failover test")
}
