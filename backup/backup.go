// Package backup writes and reads authbot's backup files, serves database
// snapshots to `authbot backup` while `serve` holds the database, and
// writes scheduled backups. Create takes a checked backup of a data dir,
// Verify opens every record of a database with its key, and Restore puts a
// backup back into a data dir only once it checked out (create.go,
// verify.go, restore.go); cmd/authbot only parses the flags.
//
// A backup is ONE age-encrypted file (age-encryption.org/v1) holding a tar
// archive with three entries: manifest.json (format version, time, sizes),
// authbot.db (a consistent bbolt copy, whose records are sealed anyway) and
// master.key (the key that opens them), then, in format 2, the Matrix
// adapter's state (matrix/crypto.db, a consistent SQLite copy whose olm and
// megolm pickles are encrypted with a key derived from the master key, and
// matrix/pending.json) so a restored bot is the same Matrix device. Key and database travel together on
// purpose: the file and its passphrase (or age identity) alone restore
// everything on a new machine, even when the old server and its key file
// are gone. age is the encryption because it is small, audited, has a
// passphrase mode (scrypt) and a public-key mode (X25519 / hybrid), so a
// server can write backups it cannot itself read.
package backup

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/datadir"
)

// Format is the newest version of the archive layout inside the age file.
// Format 1 has the database and key only; format 2 adds extra files after
// the database (see Allowed). A backup without extra files is written as
// format 1, so older authbots still read it.
const Format = 2

// Entry names inside the archive.
const (
	manifestName = "manifest.json"
	dbName       = datadir.DBName // restored to the same name in the data dir
	keyName      = datadir.KeyName
)

// Size limits on what Read accepts: a backup is hostile input until it
// opened. 4 GiB is far beyond any authbot database (a million accounts are
// well under 1 GiB) yet keeps a forged size from filling a disk.
const (
	MaxDBSize       = 4 << 30
	maxManifestSize = 64 << 10
	maxKeySize      = 1 << 10
)

// MinPassphraseLen is the shortest passphrase Recipients accepts: a backup
// holds every secret, and scrypt only slows guessing down.
const MinPassphraseLen = 12

// Errors a person must be told about.
var (
	// ErrWrongSecret: the passphrase or identity does not open the file.
	ErrWrongSecret = errors.New("the passphrase or identity does not open this backup")
	// ErrNotBackup: the file is not an authbot backup or is damaged.
	ErrNotBackup = errors.New("not an authbot backup, or a damaged one")
)

// Manifest describes a backup. It holds no names and no secrets.
type Manifest struct {
	Format   int       `json:"format"`
	Created  time.Time `json:"created"`
	Version  string    `json:"version"` // authbot version that wrote it
	DBSize   int64     `json:"db_size"`
	People   int       `json:"people"`
	Accounts int       `json:"accounts"`
	// Files are the extra files after the database and their sizes
	// (format 2).
	Files map[string]int64 `json:"files,omitempty"`
}

// File is an extra file stored after the database.
type File struct {
	Name string // one of Allowed
	Size int64
	Body io.Reader
}

// Names of the extra files, relative to the data dir.
const (
	MatrixCryptoDB = datadir.RelMatrixCryptoDB
	MatrixPending  = datadir.RelMatrixPending
)

// Allowed are the extra files a backup may hold, with their size limits.
// Nothing else is accepted: a restore writes these names into the data
// dir, so a name from the file must never choose a path.
var Allowed = map[string]int64{
	MatrixCryptoDB: 1 << 30,
	MatrixPending:  16 << 20,
}

// PassphraseRecipient returns an age scrypt recipient for pass. workFactor
// is scrypt's log2(N); 0 means age's default (18: about a second), and
// tests pass less.
func PassphraseRecipient(pass string, workFactor int) (age.Recipient, error) {
	if len([]rune(strings.TrimSpace(pass))) < MinPassphraseLen {
		return nil, fmt.Errorf("the backup passphrase must have at least %d characters", MinPassphraseLen)
	}
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return nil, fmt.Errorf("passphrase recipient: %w", err)
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	return r, nil
}

// ParseRecipient parses one age public key ("age1..." X25519, or a hybrid
// post-quantum "age1pq1..." key).
func ParseRecipient(s string) (age.Recipient, error) {
	rs, err := age.ParseRecipients(strings.NewReader(strings.TrimSpace(s)))
	if err != nil || len(rs) != 1 {
		return nil, fmt.Errorf("not one age recipient (an age1... public key)")
	}
	return rs[0], nil
}

// PassphraseIdentity returns the identity that opens a passphrase backup.
func PassphraseIdentity(pass string) (age.Identity, error) {
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, fmt.Errorf("passphrase identity: %w", err)
	}
	return id, nil
}

// ParseIdentities parses an age identity file (AGE-SECRET-KEY-... lines).
func ParseIdentities(r io.Reader) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(io.LimitReader(r, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("age identity file: %w", err)
	}
	return ids, nil
}

// Write writes a backup of the database read from db (dbSize bytes), key
// and the extra files to w, encrypted to r. m.Format, m.DBSize and m.Files
// are filled in.
func Write(w io.Writer, r age.Recipient, db io.Reader, dbSize int64, key *seal.Key, m Manifest, extra ...File) error {
	if dbSize <= 0 || dbSize > MaxDBSize {
		return fmt.Errorf("write backup: database size %d out of range", dbSize)
	}
	m.Format, m.DBSize, m.Files = 1, dbSize, nil
	for _, f := range extra {
		max, ok := Allowed[f.Name]
		if !ok || f.Size < 0 || f.Size > max {
			return fmt.Errorf("write backup: extra file %q (%d bytes) not allowed", f.Name, f.Size)
		}
		if _, dup := m.Files[f.Name]; dup {
			return fmt.Errorf("write backup: %s twice", f.Name)
		}
		if m.Files == nil {
			m.Format, m.Files = Format, map[string]int64{}
		}
		m.Files[f.Name] = f.Size
	}
	enc, err := age.Encrypt(w, r)
	if err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	tw := tar.NewWriter(enc)
	mj, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	keyText := []byte(seal.Encode(key) + "\n")
	defer clear(keyText)
	mod := m.Created.UTC()
	put := func(name string, size int64, body io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		n, err := io.Copy(tw, io.LimitReader(body, size))
		if err == nil && n != size {
			err = fmt.Errorf("%s: got %d bytes, want %d", name, n, size)
		}
		return err
	}
	// Manifest first so Read can size-check the database before reading it.
	if err := put(manifestName, int64(len(mj)), strings.NewReader(string(mj))); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := put(keyName, int64(len(keyText)), strings.NewReader(string(keyText))); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := put(dbName, dbSize, db); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	for _, f := range extra {
		if err := put(f.Name, f.Size, f.Body); err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	return nil
}

// Read decrypts a backup with ids, copies its database to dbOut and returns
// the manifest and master key; extra files are checked and discarded. The
// caller must still check the database (open it with the key and verify
// every record) before trusting it.
//
// Errors: ErrWrongSecret, ErrNotBackup (wrapped, with the reason), or an
// I/O error from dbOut.
func Read(r io.Reader, dbOut io.Writer, ids ...age.Identity) (Manifest, seal.Key, error) {
	return ReadFiles(r, dbOut, nil, ids...)
}

// ExtraFunc returns where an extra file of the backup goes (name is one of
// Allowed, size as the manifest says).
type ExtraFunc func(name string, size int64) (io.Writer, error)

// ReadFiles is Read that also copies each extra file to the writer extra
// returns for it (nil extra: discard them). Every extra file must be named
// in the manifest with its size, and every file the manifest names must be
// there.
func ReadFiles(r io.Reader, dbOut io.Writer, extra ExtraFunc, ids ...age.Identity) (Manifest, seal.Key, error) {
	var m Manifest
	dec, err := age.Decrypt(r, ids...)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) || errors.Is(err, age.ErrIncorrectIdentity) {
			return m, seal.Key{}, ErrWrongSecret
		}
		return m, seal.Key{}, fmt.Errorf("%w: %w", ErrNotBackup, err)
	}
	tr := tar.NewReader(dec)
	next := func(want string, max int64) (*tar.Header, error) {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%w: reading %s: %w", ErrNotBackup, want, err)
		}
		if h.Name != want || h.Typeflag != tar.TypeReg || h.Size < 0 || h.Size > max {
			return nil, fmt.Errorf("%w: unexpected entry where %s should be", ErrNotBackup, want)
		}
		return h, nil
	}
	if _, err := next(manifestName, maxManifestSize); err != nil {
		return m, seal.Key{}, err
	}
	mj, err := io.ReadAll(tr)
	if err != nil {
		return m, seal.Key{}, fmt.Errorf("%w: manifest: %w", ErrNotBackup, err)
	}
	if err := json.Unmarshal(mj, &m); err != nil {
		return m, seal.Key{}, fmt.Errorf("%w: manifest: %w", ErrNotBackup, err)
	}
	if m.Format < 1 || m.Format > Format {
		return m, seal.Key{}, fmt.Errorf("%w: format %d, this authbot reads 1 to %d", ErrNotBackup, m.Format, Format)
	}
	for name, size := range m.Files {
		if max, ok := Allowed[name]; !ok || m.Format < 2 || size < 0 || size > max {
			return m, seal.Key{}, fmt.Errorf("%w: manifest names an unexpected file", ErrNotBackup)
		}
	}
	if _, err := next(keyName, maxKeySize); err != nil {
		return m, seal.Key{}, err
	}
	kt, err := io.ReadAll(tr)
	if err != nil {
		return m, seal.Key{}, fmt.Errorf("%w: key: %w", ErrNotBackup, err)
	}
	key, err := seal.ParseKey(string(kt))
	clear(kt)
	if err != nil {
		return m, seal.Key{}, fmt.Errorf("%w: key: %w", ErrNotBackup, err)
	}
	h, err := next(dbName, MaxDBSize)
	if err != nil {
		return m, seal.Key{}, err
	}
	if h.Size != m.DBSize {
		return m, seal.Key{}, fmt.Errorf("%w: database is %d bytes, manifest says %d", ErrNotBackup, h.Size, m.DBSize)
	}
	n, err := io.Copy(dbOut, tr)
	if err != nil {
		// age authenticates every 64 KiB chunk: a tampered or truncated
		// file fails here, never silently.
		return m, seal.Key{}, fmt.Errorf("%w: database: %w", ErrNotBackup, err)
	}
	if n != h.Size {
		return m, seal.Key{}, fmt.Errorf("%w: database truncated", ErrNotBackup)
	}
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, seal.Key{}, fmt.Errorf("%w: after the database: %w", ErrNotBackup, err)
		}
		size, ok := m.Files[h.Name]
		if !ok || seen[h.Name] || h.Typeflag != tar.TypeReg || h.Size != size {
			return m, seal.Key{}, fmt.Errorf("%w: unexpected data after the database", ErrNotBackup)
		}
		seen[h.Name] = true
		w := io.Discard
		if extra != nil {
			if w, err = extra(h.Name, h.Size); err != nil {
				return m, seal.Key{}, err
			}
		}
		n, err := io.Copy(w, tr)
		if err != nil {
			return m, seal.Key{}, fmt.Errorf("%w: %s: %w", ErrNotBackup, h.Name, err)
		}
		if n != h.Size {
			return m, seal.Key{}, fmt.Errorf("%w: %s truncated", ErrNotBackup, h.Name)
		}
	}
	if len(seen) != len(m.Files) {
		return m, seal.Key{}, fmt.Errorf("%w: a file the manifest names is missing", ErrNotBackup)
	}
	// Drain to the end so age checks the final chunk's authentication.
	if _, err := io.Copy(io.Discard, io.LimitReader(dec, 1<<20)); err != nil {
		return m, seal.Key{}, fmt.Errorf("%w: %w", ErrNotBackup, err)
	}
	return m, key, nil
}
