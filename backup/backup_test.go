package backup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authbot/authbot/core/seal"
)

const testPass = "correct horse battery staple"

// testWorkFactor keeps scrypt fast in tests; real backups use age's default.
const testWorkFactor = 10

func writeTest(t *testing.T, r age.Recipient, db []byte, key *seal.Key) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := Manifest{Created: time.Unix(1_700_000_000, 0), Version: "test", People: 2, Accounts: 3}
	if err := Write(&buf, r, bytes.NewReader(db), int64(len(db)), key, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	key, _ := seal.NewKey()
	db := bytes.Repeat([]byte("sealed records "), 20000) // > several age chunks
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := PassphraseRecipient(testPass, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	xr, err := ParseRecipient(x.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := PassphraseIdentity(testPass)
	tests := []struct {
		name string
		r    age.Recipient
		id   age.Identity
	}{
		{"passphrase", pr, pid},
		{"x25519", xr, x},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeTest(t, tt.r, db, &key)
			if bytes.Contains(file, []byte(seal.Encode(&key))) || bytes.Contains(file, []byte("sealed records")) {
				t.Fatal("backup file holds plaintext")
			}
			var out bytes.Buffer
			m, got, err := Read(bytes.NewReader(file), &out, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if got != key || !bytes.Equal(out.Bytes(), db) {
				t.Fatal("round trip changed the key or the database")
			}
			if m.People != 2 || m.Accounts != 3 || m.DBSize != int64(len(db)) || m.Format != 1 {
				t.Errorf("manifest %+v", m)
			}
		})
	}
}

func TestReadRefuses(t *testing.T) {
	key, _ := seal.NewKey()
	db := bytes.Repeat([]byte{7}, 200_000)
	pr, _ := PassphraseRecipient(testPass, testWorkFactor)
	file := writeTest(t, pr, db, &key)
	good, _ := PassphraseIdentity(testPass)
	bad, _ := PassphraseIdentity("not the passphrase at all")
	flipped := bytes.Clone(file)
	flipped[len(flipped)-100] ^= 1
	tests := []struct {
		name string
		in   []byte
		id   age.Identity
		want error
	}{
		{"wrong passphrase", file, bad, ErrWrongSecret},
		{"tampered", flipped, good, ErrNotBackup},
		{"truncated", file[:len(file)/2], good, ErrNotBackup},
		{"not age", []byte("hello, this is not a backup"), good, ErrNotBackup},
		{"empty", nil, good, ErrNotBackup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Read(bytes.NewReader(tt.in), io.Discard, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRecipientChecks(t *testing.T) {
	if _, err := PassphraseRecipient("short", 0); err == nil {
		t.Error("short passphrase accepted")
	}
	for _, s := range []string{"", "age1notakey", "ssh-ed25519 AAAA", "age1a age1b"} {
		if _, err := ParseRecipient(s); err == nil {
			t.Errorf("ParseRecipient(%q) accepted", s)
		}
	}
}

func TestSocketSnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SocketName)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	want := bytes.Repeat([]byte("db page "), 50_000)
	var fail atomic.Bool
	srv, err := Listen(path, func(ctx context.Context, w io.Writer) (int64, error) {
		if fail.Load() {
			w.Write(want[:1000])
			return 0, errors.New("disk on fire")
		}
		n, err := w.Write(want)
		return int64(n), err
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", fi.Mode(), err)
	}
	if _, err := Listen(path, nil); err == nil {
		t.Error("a second server took over a live socket")
	}
	var got bytes.Buffer
	n, err := Fetch(ctx, path, &got)
	if err != nil || n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("fetch: %d, %v", n, err)
	}
	fail.Store(true)
	if _, err := Fetch(ctx, path, io.Discard); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("failed snapshot: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(context.Background(), path, io.Discard); !errors.Is(err, ErrNoServer) {
		t.Fatalf("after shutdown: %v", err)
	}
}

func TestSchedulerKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Scheduler{Dir: dir, Every: time.Hour, Keep: 3,
		Now: func() time.Time { return now },
		Write: func(ctx context.Context, f *os.File) error {
			_, err := f.WriteString(now.String())
			return err
		}}
	// A stale temporary file from a crashed run, and an unrelated file.
	os.WriteFile(filepath.Join(dir, ".authbot-x.age.123.tmp"), []byte("half"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600)
	for i := 0; i < 5; i++ {
		if _, err := s.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "authbot-20250101T020000Z.age authbot-20250101T030000Z.age authbot-20250101T040000Z.age notes.txt"
	if strings.Join(names, " ") != want {
		t.Fatalf("files %v\nwant %s", names, want)
	}
	// A failing writer leaves nothing behind.
	s.Write = func(ctx context.Context, f *os.File) error { return errors.New("no space left on device") }
	if _, err := s.RunOnce(context.Background()); err == nil {
		t.Fatal("failure not reported")
	}
	entries2, _ := os.ReadDir(dir)
	if len(entries2) != len(entries) {
		t.Fatalf("a failed run left files: %d → %d", len(entries), len(entries2))
	}
}

// TestSchedulerRestartLoopKeepsGoodBackups is the review's crash loop: a
// bot that restarts every minute must not write a backup per start and
// prune the good ones (made before the trouble) away.
func TestSchedulerRestartLoopKeepsGoodBackups(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	newSched := func() *Scheduler {
		return &Scheduler{Dir: dir, Every: 24 * time.Hour, Keep: 3,
			Now: func() time.Time { return now },
			Write: func(ctx context.Context, f *os.File) error {
				_, err := f.WriteString(now.String())
				return err
			}}
	}
	// Three good daily backups.
	for i := 0; i < 3; i++ {
		if _, err := newSched().RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(24 * time.Hour)
	}
	good, _ := scheduled(dir)
	now = now.Add(-23 * time.Hour) // the newest is an hour old
	// Sixty starts a minute apart, each doing what Run does first.
	for i := 0; i < 60; i++ {
		s := newSched()
		if s.FirstWait() == 0 {
			if _, err := s.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(time.Minute)
	}
	after, _ := scheduled(dir)
	if strings.Join(after, " ") != strings.Join(good, " ") {
		t.Fatalf("backups after a restart loop: %v\nwant the good ones: %v", after, good)
	}
	if w := newSched().FirstWait(); w <= 0 || w > 23*time.Hour {
		t.Fatalf("first wait %v, want the rest of the day", w)
	}
}

// TestPruneNeverRemovesRecent: however many backups one period holds
// (a clock that jumped, manual runs), none younger than every is removed.
func TestPruneNeverRemovesRecent(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, ago := range []time.Duration{72 * time.Hour, 48 * time.Hour, 3 * time.Hour, 2 * time.Hour, time.Hour, time.Minute} {
		name := schedPrefix + now.Add(-ago).Format(timeLayout) + schedSuffix
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := PruneKeepingRecent(dir, 2, now.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	left, _ := scheduled(dir)
	if len(left) != 4 {
		t.Fatalf("left %v, want the four of the last day", left)
	}
}
