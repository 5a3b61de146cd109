// Package damage breaks database files on purpose, for the tests that show
// a damaged file is refused and left as it was. It imports nothing of
// authbot, so storage/bolt's own tests can use it too.
package damage

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"
)

// SmashPage overwrites the page of path (pages of pageSize bytes) that
// holds marker with random bytes, through its own file handle. The bytes
// are the same every run, so a failure replays.
func SmashPage(tb testing.TB, path string, marker []byte, pageSize int) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	i := bytes.Index(b, marker)
	if i < 0 {
		tb.Fatal("marker not found")
	}
	garbage := make([]byte, pageSize)
	rng := rand.New(rand.NewPCG(5, 6))
	for j := range garbage {
		garbage[j] = byte(rng.Uint32())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(garbage, int64(i/pageSize*pageSize)); err != nil {
		tb.Fatal(err)
	}
}
