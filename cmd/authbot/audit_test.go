package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n/code demo\n/code demo\n/vault new fam\n/add fam/tv JBSWY3DPEHPK3PXP\n", "chat", "--data", dir); err != nil {
		t.Fatalf("chat: %v %s", err, stderr)
	}
	out, stderr, err := runCmd(t, "", "audit", "--data", dir)
	if err != nil {
		t.Fatalf("audit: %v %s", err, stderr)
	}
	if n := strings.Count(out, "code demo"); n != 2 {
		t.Errorf("%d code entries in\n%s", n, out)
	}
	for _, want := range []string{"(console)", "vault-created vault fam", "account-added fam/tv"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCmd(t, "", "audit", "--data", dir, "--vault", "fam", "--json")
	if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"vault":"fam"`) {
		t.Errorf("--vault --json: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, "", "audit", "--data", dir, "extra"); err == nil {
		t.Error("extra argument accepted")
	}
}
