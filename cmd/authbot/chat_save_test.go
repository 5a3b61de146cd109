package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authbot/authbot/storage/datadir"
)

// TestChatExportFilesGoOnlyWhereAsked: the vault and QR images an export
// writes are kept only in --save DIR; without it they sit in a private
// temporary dir that is gone when the chat ends, and never in DATA/exports.
func TestChatExportFilesGoOnlyWhereAsked(t *testing.T) {
	const script = "/add demo JBSWY3DPEHPK3PXP\n/export\ncorrect horse battery\n/export demo yes\n"
	saved := regexp.MustCompile(`(?m)^Saved (\S+) \(readable only by you\)`)
	tests := []struct {
		name string
		save bool
	}{
		{"without --save", false},
		{"with --save", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := []string{"chat", "--data", data}
			keep := filepath.Join(t.TempDir(), "kept")
			if tt.save {
				args = append(args, "--save", keep)
			}
			out, stderr, err := runCmd(t, script, args...)
			if err != nil {
				t.Fatalf("chat: %v\n%s%s", err, out, stderr)
			}
			paths := saved.FindAllStringSubmatch(out, -1)
			if len(paths) != 3 {
				t.Fatalf("%d files saved, want 3 (vault, transfer QR, account QR):\n%s", len(paths), out)
			}
			for _, m := range paths {
				path := m[1]
				_, err := os.Stat(path)
				switch {
				case tt.save && filepath.Dir(path) != keep:
					t.Errorf("%s saved outside --save %s", path, keep)
				case tt.save && err != nil:
					t.Errorf("%s not kept: %v", path, err)
				case !tt.save && err == nil:
					t.Errorf("%s still there after the chat ended", path)
				case !tt.save && strings.HasPrefix(path, data):
					t.Errorf("%s saved in the data dir", path)
				}
			}
			if !tt.save {
				if _, err := os.Stat(filepath.Dir(paths[0][1])); err == nil {
					t.Error("the temporary save dir is still there")
				}
				if !strings.Contains(out, "removed when this chat ends") {
					t.Errorf("the chat did not say the files go away:\n%s", out)
				}
			}
			if _, err := os.Stat(datadir.At(data).Exports()); err == nil {
				t.Error("DATA/exports was created")
			}
		})
	}
}

// TestChatNotesOldExports: files an older version left in DATA/exports
// are pointed out (never deleted: they may be the person's only copy).
func TestChatNotesOldExports(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if _, _, err := runCmd(t, "/help\n", "chat", "--data", data); err != nil {
		t.Fatal(err)
	}
	old := datadir.At(data).Exports()
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, "authbot-export.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ := runCmd(t, "/help\n", "chat", "--data", data)
	if !strings.Contains(stderr, old) {
		t.Errorf("no note about %s:\n%s", old, stderr)
	}
	if _, err := os.Stat(filepath.Join(old, "authbot-export.json")); err != nil {
		t.Errorf("the old export was touched: %v", err)
	}
}
