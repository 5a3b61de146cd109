//go:build goolm

package matrix

import (
	"os"
	"testing"

	"github.com/authbot/authbot/bots/matrix/matrixtest"
	"github.com/authbot/authbot/internal/testkit"
)

// The integration tests share one Dendrite for the whole package: starting
// one takes well under a second, building it about two minutes (once).
var (
	hs    *homeserver
	hsErr error
)

// homeserver is the real Dendrite the tests talk to (matrixtest).
type homeserver = matrixtest.Homeserver

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	hs, hsErr = matrixtest.Start("authbot-dendrite-")
	if hs != nil {
		defer hs.Stop()
	}
	defer testkit.RemoveBuilds()
	return m.Run()
}

// needHomeserver fails the test when Dendrite could not be started under
// CI=true, and skips it (saying why) only outside CI.
func needHomeserver(t testing.TB) *homeserver {
	t.Helper()
	return matrixtest.Need(t, hs, hsErr, "the Matrix integration tests")
}
