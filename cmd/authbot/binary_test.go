package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The subprocess tests (crash, two processes, log secrets) run the real
// binary, built once per test run with the same build tags as this test
// binary (testTags, set by tags_goolm_test.go under -tags goolm).
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
	testTags  string
)

func authbotBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		// Not t.TempDir: the binary outlives the test that built it;
		// TestMain removes it.
		dir, err := os.MkdirTemp("", "authbot-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "authbot")
		args := []string{"build", "-o", binPath}
		if testTags != "" {
			args = append(args, "-tags", testTags)
		}
		args = append(args, ".")
		buildOut, buildErr = exec.Command("go", args...).CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
