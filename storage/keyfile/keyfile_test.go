package keyfile

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authbot/authbot/core/seal"
)

func newKey(t *testing.T) seal.Key {
	t.Helper()
	k, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLoadFromEnv(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	got, src, err := Load(dir, seal.Encode(&k))
	if err != nil || got != k || src != FromEnv {
		t.Fatalf("Load = %v, %v, %v", got == k, src, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Load from env created a key file")
	}
	_, _, err = Load(dir, "dG9vIHNob3J0")
	if err == nil || !strings.Contains(err.Error(), EnvVar) || !errors.Is(err, seal.ErrKeyFormat) {
		t.Fatalf("bad env key err = %v", err)
	}
	if strings.Contains(err.Error(), "dG9vIHNob3J0") {
		t.Fatal("error echoes the key text")
	}
}

func TestLoadCreatesThenReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k, src, err := Load(dir, "")
	if err != nil || src != Created || k == (seal.Key{}) {
		t.Fatalf("first Load = %v, %v", src, err)
	}
	path := filepath.Join(dir, FileName)
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v, %v; want %o", p, fi.Mode().Perm(), err, want)
		}
	}
	b, _ := os.ReadFile(path)
	if string(b) != seal.Encode(&k)+"\n" {
		t.Fatal("key file is not base64 of the key plus newline")
	}
	k2, src, err := Load(dir, "")
	if err != nil || src != FromFile || k2 != k {
		t.Fatalf("second Load = %v, %v, %v", k2 == k, src, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("dir holds %d entries, want only %s (temporary files left?)", len(entries), FileName)
	}
}

func TestLoadConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([]seal.Key, n)
	srcs := make([]Source, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], srcs[i], errs[i] = Load(dir, "") })
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Load %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatal("concurrent starters got different keys")
		}
		if srcs[i] == Created {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d starters say they created the key, want 1", created)
	}
}

func TestLoadBadFiles(t *testing.T) {
	k := newKey(t)
	raw := k[:]
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string
		is      error
	}{
		{"group readable", seal.Encode(&k) + "\n", 0o640, []string{"mode 0640", "chmod 600"}, ErrInsecureMode},
		{"world readable", seal.Encode(&k) + "\n", 0o604, []string{"mode 0604", "chmod 600"}, ErrInsecureMode},
		{"group writable", seal.Encode(&k) + "\n", 0o620, []string{"chmod 600"}, ErrInsecureMode},
		{"empty", "", 0o600, []string{"is empty"}, nil},
		{"blank", "\n\n", 0o600, []string{"exactly 32 bytes, got nothing"}, seal.ErrKeyFormat},
		{"not base64", "correct horse battery staple\n", 0o600, []string{"not base64"}, seal.ErrKeyFormat},
		{"wrong length", base64.StdEncoding.EncodeToString(raw[:31]) + "\n", 0o600, []string{"got 31"}, seal.ErrKeyFormat},
		{"huge", strings.Repeat("A", 5000), 0o600, []string{"too large"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			_, _, err := Load(dir, "")
			if err == nil {
				t.Fatal("Load accepted a bad key file")
			}
			t.Logf("Load: %v", err)
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q lacks %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err %v is not %v", err, tt.is)
			}
			if strings.Contains(err.Error(), seal.Encode(&k)) {
				t.Error("error reveals the key")
			}
			after, _ := os.ReadFile(path)
			if string(before) != string(after) {
				t.Error("Load changed a bad key file instead of refusing it")
			}
		})
	}
}

func TestLoadAcceptsTrimmedAndURLForms(t *testing.T) {
	k := newKey(t)
	for name, content := range map[string]string{
		"no newline": seal.Encode(&k),
		"crlf":       seal.Encode(&k) + "\r\n",
		"url raw":    base64.RawURLEncoding.EncodeToString(k[:]) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, src, err := Load(dir, "")
			if err != nil || got != k || src != FromFile {
				t.Fatalf("Load = %v, %v, %v", got == k, src, err)
			}
		})
	}
}

func TestLoadKeyFileIsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, FileName), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load = %v, want not a regular file", err)
	}
}

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	old, _, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	k := newKey(t)
	if err := Write(dir, k); err != nil {
		t.Fatal(err)
	}
	got, src, err := Load(dir, "")
	if err != nil || got != k || got == old || src != FromFile {
		t.Fatalf("after Write, Load = %v, %v, %v", got == k, src, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, FileName))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after Write %o", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("Write left %d entries", len(entries))
	}
	// Write into a missing dir creates it.
	if err := Write(filepath.Join(dir, "new"), k); err != nil {
		t.Fatal(err)
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{FromEnv: "environment (AUTHBOT_MASTER_KEY)", FromFile: "key file", Created: "new key file", 0: "Source(0)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q", s, s.String())
		}
	}
}
