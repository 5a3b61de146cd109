package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/datadir"
)

// How `authbot backup` gets a consistent copy while `serve` runs: bbolt
// holds an exclusive lock on authbot.db for its writer, so a second process
// cannot open the file, not even read-only. `serve` therefore answers on a
// unix socket in the data dir (backup.sock, 0600) with a snapshot taken
// inside one read transaction (Listen), and `authbot backup` asks it there
// (Fetch). When no serve answers (the bot is stopped), the backup opens the
// database itself, read-only. Either way Create opens the copy with the
// master key and checks every record before the backup file is written.

// CreateOptions says what Create backs up and how.
type CreateOptions struct {
	// DataDir is the data dir whose Matrix state goes with the backup.
	DataDir string
	// TmpDir is where the snapshot is staged (CreateFile: the output's dir).
	TmpDir string
	// Recipient encrypts the backup (PassphraseRecipient, ParseRecipient).
	Recipient age.Recipient
	// Key is the master key: it checks the snapshot and goes in the backup.
	Key *seal.Key
	// Snapshot writes a consistent bbolt copy of every record.
	Snapshot SnapshotFunc
	// Version is the authbot version recorded in the manifest.
	Version string
	// ExportMatrix, when set, writes the Matrix crypto store, kept outside
	// the data dir (in PostgreSQL), as a SQLite file at path and reports
	// whether there is one; DataDir's matrix/ is then not read. Unset: the
	// data dir's matrix/crypto.db and pending.json go with the backup.
	ExportMatrix func(ctx context.Context, path string) (bool, error)
}

// CreateFile writes a checked, encrypted backup to path atomically (see
// Create), staging the snapshot beside path. It never replaces path if
// anything fails.
func CreateFile(ctx context.Context, path string, o CreateOptions) (Manifest, error) {
	var m Manifest
	o.TmpDir = filepath.Dir(path)
	err := WriteFileAtomic(ctx, path, func(ctx context.Context, f *os.File) error {
		var err error
		m, err = Create(ctx, f, o)
		return err
	})
	return m, err
}

// Create takes a snapshot into temporary files in o.TmpDir, checks it
// (opens every record with o.Key, see Verify), and only then writes the
// encrypted backup to w. The Matrix adapter's state in o.DataDir goes with
// it when this build can copy it (see matrixState). Used by `authbot
// backup` and by serve's schedule. The returned manifest lists the extra
// files written in Files.
func Create(ctx context.Context, w io.Writer, o CreateOptions) (Manifest, error) {
	var m Manifest
	work, err := os.MkdirTemp(o.TmpDir, ".authbot-snapshot-*")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(work)
	tmp, err := os.OpenFile(datadir.At(work).DB(), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer tmp.Close()
	n, err := o.Snapshot(ctx, tmp)
	if err != nil {
		return m, fmt.Errorf("backup: snapshot: %w", err)
	}
	rep, err := Verify(ctx, tmp.Name(), o.Key)
	if err != nil {
		return m, fmt.Errorf("backup: the snapshot did not check out, nothing written: %w", err)
	}
	extra, err := matrixState(ctx, o, work)
	for _, f := range extra {
		defer f.Body.(io.Closer).Close()
	}
	if err != nil {
		return m, fmt.Errorf("backup: Matrix state: %w", err)
	}
	m = Manifest{Created: time.Now().UTC(), Version: o.Version, People: rep.People, Accounts: rep.Accounts}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := Write(w, o.Recipient, tmp, n, o.Key, m, extra...); err != nil {
		return m, err
	}
	m.Files = map[string]int64{}
	for _, f := range extra {
		m.Files[f.Name] = f.Size
	}
	return m, nil
}

// HasMatrixState reports whether dataDir holds a Matrix crypto store.
func HasMatrixState(dataDir string) bool {
	_, err := os.Stat(datadir.At(dataDir).MatrixCryptoDB())
	return err == nil
}

// matrixState copies the Matrix adapter's state into work and returns it
// as backup files (each Body an open *os.File for the caller to close):
// crypto.db as a consistent SQLite copy (VACUUM INTO, safe while serve
// runs) that passed SQLite's integrity check, and a pending.json left by a
// version before the outbox (the adapter moves it into the database at its
// next start), so one open file is one whole version.
// With o.ExportMatrix the crypto store comes from there instead (no
// pending.json). Nothing when there is no Matrix state or this build cannot
// copy it (no goolm tag: `authbot backup` says so).
func matrixState(ctx context.Context, o CreateOptions, work string) ([]File, error) {
	dataDir := o.DataDir
	if !SQLiteSupported || (o.ExportMatrix == nil && !HasMatrixState(dataDir)) {
		return nil, nil
	}
	var files []File
	add := func(name, path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		if max := Allowed[name]; fi.Size() > max {
			f.Close()
			return fmt.Errorf("%s is %d bytes, more than the %d a backup holds", path, fi.Size(), max)
		}
		files = append(files, File{Name: name, Size: fi.Size(), Body: f})
		return nil
	}
	copyPath := filepath.Join(work, datadir.CryptoDBName)
	if o.ExportMatrix != nil {
		if ok, err := o.ExportMatrix(ctx, copyPath); err != nil || !ok {
			return nil, err
		}
		if err := CheckSQLite(ctx, copyPath); err != nil {
			return nil, err
		}
		err := add(MatrixCryptoDB, copyPath)
		return files, err
	}
	if err := SnapshotSQLite(ctx, datadir.At(dataDir).MatrixCryptoDB(), copyPath); err != nil {
		return nil, err
	}
	if err := CheckSQLite(ctx, copyPath); err != nil {
		return nil, err
	}
	if err := add(MatrixCryptoDB, copyPath); err != nil {
		return files, err
	}
	if err := add(MatrixPending, datadir.At(dataDir).MatrixPending()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return files, err
	}
	return files, nil
}
