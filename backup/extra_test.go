package backup

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authbot/authbot/core/seal"
)

// collect is an ExtraFunc that keeps every extra file in memory.
func collect(got map[string][]byte) ExtraFunc {
	return func(name string, size int64) (io.Writer, error) {
		b := &bytes.Buffer{}
		got[name] = nil
		return writerFunc(func(p []byte) (int, error) {
			n, err := b.Write(p)
			got[name] = b.Bytes()
			return n, err
		}), nil
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestExtraFilesRoundTrip(t *testing.T) {
	key, _ := seal.NewKey()
	x, _ := age.GenerateX25519Identity()
	db := bytes.Repeat([]byte("bbolt "), 30000)
	crypto := bytes.Repeat([]byte("SQLite format 3\x00"), 10000)
	pending := []byte(`[{"room":"!r:x","event":"$e","at":"2030-01-01T00:00:00Z"}]`)
	var buf bytes.Buffer
	m := Manifest{Created: time.Unix(1_700_000_000, 0), Version: "test"}
	err := Write(&buf, x.Recipient(), bytes.NewReader(db), int64(len(db)), &key, m,
		File{MatrixCryptoDB, int64(len(crypto)), bytes.NewReader(crypto)},
		File{MatrixPending, int64(len(pending)), bytes.NewReader(pending)})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("read with files", func(t *testing.T) {
		var gotDB bytes.Buffer
		got := map[string][]byte{}
		m, k, err := ReadFiles(bytes.NewReader(buf.Bytes()), &gotDB, collect(got), x)
		if err != nil {
			t.Fatal(err)
		}
		if m.Format != 2 || k != key || !bytes.Equal(gotDB.Bytes(), db) {
			t.Fatalf("format %d, key ok %v, db ok %v", m.Format, k == key, bytes.Equal(gotDB.Bytes(), db))
		}
		if !bytes.Equal(got[MatrixCryptoDB], crypto) || !bytes.Equal(got[MatrixPending], pending) || len(got) != 2 {
			t.Errorf("extra files: %d, crypto ok %v, pending ok %v", len(got), bytes.Equal(got[MatrixCryptoDB], crypto), bytes.Equal(got[MatrixPending], pending))
		}
	})
	t.Run("Read discards them", func(t *testing.T) {
		var gotDB bytes.Buffer
		if _, _, err := Read(bytes.NewReader(buf.Bytes()), &gotDB, x); err != nil || !bytes.Equal(gotDB.Bytes(), db) {
			t.Fatalf("Read: %v", err)
		}
	})
	t.Run("without files it stays format 1", func(t *testing.T) {
		var b1 bytes.Buffer
		if err := Write(&b1, x.Recipient(), bytes.NewReader(db), int64(len(db)), &key, m); err != nil {
			t.Fatal(err)
		}
		got, _, err := ReadFiles(bytes.NewReader(b1.Bytes()), io.Discard, collect(map[string][]byte{}), x)
		if err != nil || got.Format != 1 || got.Files != nil {
			t.Fatalf("format %d files %v err %v", got.Format, got.Files, err)
		}
	})
}

func TestWriteRefusesUnknownFiles(t *testing.T) {
	key, _ := seal.NewKey()
	x, _ := age.GenerateX25519Identity()
	for _, f := range []File{
		{"../../etc/passwd", 1, strings.NewReader("x")},
		{"matrix/other.db", 1, strings.NewReader("x")},
		{MatrixPending, Allowed[MatrixPending] + 1, strings.NewReader("x")},
	} {
		if err := Write(io.Discard, x.Recipient(), strings.NewReader("db"), 2, &key, Manifest{}, f); err == nil {
			t.Errorf("Write accepted %q (%d bytes)", f.Name, f.Size)
		}
	}
}

// rawBackup builds an archive by hand: a manifest, the key, a database and
// then entries, as a forged or damaged backup could have them.
func rawBackup(t *testing.T, r age.Recipient, m Manifest, entries ...[2]string) []byte {
	t.Helper()
	key, _ := seal.NewKey()
	var buf bytes.Buffer
	enc, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(enc)
	mj, _ := json.Marshal(m)
	all := append([][2]string{{manifestName, string(mj)}, {keyName, seal.Encode(&key) + "\n"}, {dbName, "db"}}, entries...)
	for _, e := range all {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o600, Size: int64(len(e[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadRefusesForgedFiles(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	m2 := func(files map[string]int64) Manifest {
		return Manifest{Format: 2, DBSize: 2, Files: files}
	}
	tests := []struct {
		name    string
		m       Manifest
		entries [][2]string
	}{
		{"entry not in the manifest", m2(nil), [][2]string{{MatrixPending, "[]"}}},
		{"path outside the data dir", m2(map[string]int64{"../x": 2}), [][2]string{{"../x", "[]"}}},
		{"unknown name in the manifest", m2(map[string]int64{"matrix/evil": 2}), [][2]string{{"matrix/evil", "[]"}}},
		{"size differs", m2(map[string]int64{MatrixPending: 3}), [][2]string{{MatrixPending, "[]"}}},
		{"named but missing", m2(map[string]int64{MatrixPending: 2}), nil},
		{"twice", m2(map[string]int64{MatrixPending: 2}), [][2]string{{MatrixPending, "[]"}, {MatrixPending, "[]"}}},
		{"files in format 1", Manifest{Format: 1, DBSize: 2, Files: map[string]int64{MatrixPending: 2}}, [][2]string{{MatrixPending, "[]"}}},
		{"format from the future", Manifest{Format: 3, DBSize: 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := rawBackup(t, x.Recipient(), tt.m, tt.entries...)
			wrote := false
			_, _, err := ReadFiles(bytes.NewReader(raw), io.Discard, func(string, int64) (io.Writer, error) {
				wrote = true
				return io.Discard, nil
			}, x)
			if !errors.Is(err, ErrNotBackup) {
				t.Fatalf("err = %v, want ErrNotBackup", err)
			}
			if wrote && tt.name != "named but missing" && tt.name != "twice" {
				t.Error("an unexpected file was handed out to be written")
			}
		})
	}
}
