package main

// Disk full and a read-only data dir, through the real binary: the data
// dir is a small tmpfs that the test fills up or remounts read-only. The
// person must get an answer that says nothing was changed (never "Added"),
// the operator's log must name the file and the reason, and every account
// stored before must still be there, with the right code, once there is
// space again. Mounting needs root (CI runs as root); elsewhere these tests
// skip and storage/bolt's TestFileSizeLimit still covers the write path.

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbot/authbot/storage/datadir"
	"github.com/pquerna/otp/totp"
)

// mountTmpfs mounts a tmpfs of size (e.g. "1m") on a new directory and
// unmounts it when the test ends (after the processes the test started,
// whose cleanups were registered later and so run first).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs as root); storage/bolt TestFileSizeLimit covers the write path without it")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", mode, dir, err, out)
	}
}

// chatScript runs `authbot chat --data dir` with lines on stdin until it
// exits, bounded so a hang fails the test instead of stalling it.
func chatScript(t *testing.T, dir string, lines ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, authbotBinary(t), "chat", "--data", dir)
	cmd.Env = append(os.Environ(), "AUTHBOT_MASTER_KEY=")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("authbot chat did not finish in 30 s (hung?); stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	return out.String(), errb.String(), err
}

// diskSecret is account name's backup key: distinct per name, so no /add is
// refused as a duplicate.
func diskSecret(name string) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(fmt.Sprintf("disk-full-%-10s", name)))
}

func addLines(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, "/add "+n+" "+diskSecret(n))
	}
	return out
}

// fill writes zeros to dir/fill until the file system has no room left.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "fill")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for range 1 << 16 {
		if _, err = f.Write(chunk); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling %s ended with %v, want no space left", dir, err)
	}
	return path
}

var codeLineRE = regexp.MustCompile(`(?m)^(\w+): (\d{6})\b`) // "a0: 123456 — …" or "a0: 123456, then …"

// checkAccounts asserts that /list in dir shows exactly names and that
// /code of each gives the TOTP code of its secret.
func checkAccounts(t *testing.T, dir string, names ...string) {
	t.Helper()
	lines := []string{"/list"}
	for _, n := range names {
		lines = append(lines, "/code "+n)
	}
	out, stderr, err := chatScript(t, dir, lines...)
	if err != nil {
		t.Fatalf("authbot chat: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, fmt.Sprintf("Your accounts (%d):", len(names))) {
		t.Fatalf("want %d accounts, got:\n%s", len(names), out)
	}
	for _, n := range names {
		if !strings.Contains(out, "• "+n+"\n") {
			t.Errorf("account %s lost:\n%s", n, out)
		}
	}
	codes := map[string]string{}
	for _, m := range codeLineRE.FindAllStringSubmatch(out, -1) {
		codes[m[1]] = m[2]
	}
	now := time.Now()
	for _, n := range names {
		ok := false
		for _, d := range []time.Duration{0, -30 * time.Second, 30 * time.Second} {
			if want, _ := totp.GenerateCode(diskSecret(n), now.Add(d)); want == codes[n] {
				ok = true
			}
		}
		if !ok {
			t.Errorf("/code %s gave %q, not the TOTP code of its secret", n, codes[n])
		}
	}
}

func TestDiskFullThroughBinary(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	before := []string{"a0", "a1", "a2", "a3", "a4"}
	out, stderr, err := chatScript(t, dir, addLines(before...)...)
	if err != nil || strings.Count(out, "Added ") != len(before) {
		t.Fatalf("seeding: %v\n%s\n%s", err, out, stderr)
	}
	filler := fill(t, dir)

	// A few adds (under the per-person write budget of 20): the first
	// that needs a page the full disk cannot give fails, and so does every
	// later one; reads keep working.
	// Sixteen: a file's free pages can take a few small adds (more with
	// storage/bolt's 2 KiB pages).
	full := []string{"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12", "b13", "b14", "b15"}
	out, stderr, err = chatScript(t, dir, append(addLines(full...), "/list")...)
	// Every line is answered; the refused adds make the pipe exit 1.
	if err == nil || !strings.Contains(stderr, "a command failed") {
		t.Fatalf("authbot chat on a full disk exited with %v (want a non-zero exit for the refused adds)\n%s", err, stderr)
	}
	answers := strings.Split(out, "\n")
	refused := 0
	for _, a := range answers[:len(full)] {
		switch {
		case strings.HasPrefix(a, "Added "):
			// Free pages inside the file may take one or two.
		case strings.Contains(a, "storage is full or read-only, so nothing was changed"):
			refused++
		default:
			t.Errorf("unclear answer on a full disk: %q", a)
		}
	}
	if refused == 0 {
		t.Fatalf("no /add failed on a full disk:\n%s", out)
	}
	stored := append([]string(nil), before...)
	for i, a := range answers[:len(full)] {
		if strings.HasPrefix(a, "Added ") {
			stored = append(stored, full[i])
		}
	}
	if !strings.Contains(out, fmt.Sprintf("Your accounts (%d):", len(stored))) {
		t.Errorf("/list on a full disk:\n%s", out)
	}
	// The operator's log says what and where; the chat does not.
	if !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, datadir.At(dir).DB()) {
		t.Errorf("log does not name the file and the reason:\n%s", stderr)
	}
	if strings.Contains(out, "no space left") || strings.Contains(out, dir) {
		t.Errorf("the raw error reached the chat:\n%s", out)
	}
	t.Logf("%d of %d adds refused on a full disk: %q", refused, len(full), answers[len(full)-1])

	// Space again: everything stored before is there with its code, and
	// adding works again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	checkAccounts(t, dir, stored...)
	out, stderr, err = chatScript(t, dir, addLines("c0")...)
	if err != nil || !strings.HasPrefix(out, "Added c0.") {
		t.Fatalf("add after freeing space: %v\n%s\n%s", err, out, stderr)
	}
	checkAccounts(t, dir, append(stored, "c0")...)
}

func TestReadOnlyDataDirThroughBinary(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	before := []string{"r0", "r1", "r2"}
	if out, stderr, err := chatScript(t, dir, addLines(before...)...); err != nil || strings.Count(out, "Added ") != len(before) {
		t.Fatalf("seeding: %v\n%s\n%s", err, out, stderr)
	}
	remount(t, dir, "ro")

	out, stderr, err := chatScript(t, dir, addLines("r3")...)
	var exit *exec.ExitError
	switch {
	case err == nil:
		// It started (read-write opens may be refused only at the
		// first write): then the /add must say nothing was changed.
		if strings.HasPrefix(out, "Added ") || !strings.Contains(out, "nothing was changed") {
			t.Errorf("/add on a read-only data dir answered %q", out)
		}
		if !strings.Contains(stderr, "read-only file system") {
			t.Errorf("log does not say read-only:\n%s", stderr)
		}
	case errors.As(err, &exit):
		// Refused at start: a clear message naming the reason and the
		// file, not a hang and not a panic.
		if !strings.Contains(stderr, "read-only file system") || !strings.Contains(stderr, dir) || strings.Contains(stderr, "panic") {
			t.Errorf("start on a read-only data dir: %v\n%s", err, stderr)
		}
		if out != "" {
			t.Errorf("answered although it could not start: %q", out)
		}
		t.Logf("refused at start: %s", strings.TrimSpace(stderr))
	default:
		t.Fatal(err)
	}

	remount(t, dir, "rw")
	checkAccounts(t, dir, before...)
}
