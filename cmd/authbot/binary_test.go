package main

import (
	"os"
	"testing"

	"github.com/authbot/authbot/internal/testkit"
)

// The subprocess tests (crash, two processes, log secrets) run the real
// binary, built once per test run with the same build tags as this test
// binary (testTags, set by tags_goolm_test.go under -tags goolm).
var testTags string

func authbotBinary(t *testing.T) string {
	t.Helper()
	return testkit.Authbot(t, testTags)
}

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBuilds()
	os.Exit(code)
}
