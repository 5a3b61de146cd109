package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/authbot/authbot/core"
)

// childEnv marks a test binary started by runInChild; its value says why.
const childEnv = "AUTHBOT_BOLT_TEST_CHILD"

// runInChild runs the current test again in a fresh copy of the test
// binary, with attr (for example another user) and env, and reports
// whether it did so: the caller then returns, the child having done the
// real work. The child sees childEnv set to why and runs the test inline.
func runInChild(t *testing.T, why string, attr *syscall.SysProcAttr) bool {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		return false
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Copy the binary somewhere any user may run it: go test's own build
	// directory is private to the user who built it.
	dir, err := os.MkdirTemp("", "bolt-child-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bolt.test")
	if err := copyFile(exe, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+why)
	cmd.Dir = "/"
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	t.Logf("child (%s):\n%s", why, out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child test failed: %v", err)
	}
	return true
}

// runAsNobody makes permission tests meaningful when the tests run as root,
// who ignores file modes: the test is rerun as uid/gid 65534.
func runAsNobody(t *testing.T) bool {
	if os.Geteuid() != 0 {
		return false
	}
	return runInChild(t, "nobody", &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}})
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// TestFileSizeLimit stands in for a full disk: a child process with a
// small RLIMIT_FSIZE gets EFBIG from the same writes that would get ENOSPC.
// The Update that cannot be written must fail with an error naming the
// file, and every earlier commit must still be there.
func TestFileSizeLimit(t *testing.T) {
	if runInChild(t, "fsize", nil) {
		return
	}
	path := dbPath(t)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	limit := old
	limit.Cur = 256 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Skipf("cannot set RLIMIT_FSIZE: %v", err)
	}
	value := make([]byte, 8<<10)
	committed := 0
	var updErr error
	for i := range 1000 {
		updErr = s.Update(context.Background(), func(tx core.Tx) error {
			return tx.Put(core.Ref{Kind: "vault", Owner: "o", ID: fmt.Sprintf("id%04d", i)}, value)
		})
		if updErr != nil {
			break
		}
		committed++
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if updErr == nil {
		t.Fatal("1000 writes of 8 KiB fit under a 256 KiB limit")
	}
	t.Logf("after %d commits: %v", committed, updErr)
	if !strings.Contains(updErr.Error(), path) || !errors.Is(updErr, syscall.EFBIG) && !strings.Contains(updErr.Error(), "file too large") {
		t.Fatalf("Update err = %v, want the file's path and its reason", updErr)
	}
	if errors.Is(updErr, core.ErrCorrupt) {
		t.Fatalf("a failed write is not corruption: %v", updErr)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path, Options{})
	_ = s.View(context.Background(), func(tx core.Tx) error {
		ids, err := tx.List("vault", "o")
		if err != nil || len(ids) != committed {
			t.Fatalf("after reopen %d records (%v), want %d", len(ids), err, committed)
		}
		return nil
	})
}
