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
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
)

// A restore never touches the target until the backup has been decrypted
// into a fresh directory beside it and every record in it opened with the
// included key. Only then is the target swapped: an existing data dir is
// renamed aside (DIR.old-<time>), never deleted.

// Restore unpacks and checks the backup file in, then swaps it into dir.
// It returns the manifest (People and Accounts as counted by the check)
// and where an existing dir was moved. A dir that exists and is not empty
// is refused unless force, and refused even then while a bot has its
// database open.
func Restore(ctx context.Context, in, dir string, force bool, ids ...age.Identity) (Manifest, string, error) {
	var m Manifest
	exists, err := nonEmptyDir(dir)
	if err != nil {
		return m, "", err
	}
	if exists && !force {
		return m, "", fmt.Errorf("%s exists and is not empty; restore into a new directory, or add --force to move it aside", dir)
	}
	if exists {
		// Refuse while a bot has it open: swapping the directory under a
		// running process would lose what it writes next.
		s, err := bolt.Open(ctx, datadir.At(dir).DB(), bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
		if errors.Is(err, bolt.ErrLocked) {
			return m, "", fmt.Errorf("%w: stop authbot before restoring over its data dir", err)
		}
		if err == nil {
			s.Close()
		}
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return m, "", fmt.Errorf("restore: %w", err)
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-*")
	if err != nil {
		return m, "", fmt.Errorf("restore: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(stage)
		}
	}()
	m, key, err := Unpack(in, stage, ids...)
	if err != nil {
		return m, "", err
	}
	defer seal.Zero(&key)
	rep, err := Verify(ctx, datadir.At(stage).DB(), &key)
	if err != nil {
		return m, "", fmt.Errorf("the backup does not check out, nothing was changed: %w", err)
	}
	m.People, m.Accounts = rep.People, rep.Accounts
	if _, ok := m.Files[MatrixCryptoDB]; ok && SQLiteSupported {
		if err := CheckSQLite(ctx, datadir.At(stage).MatrixCryptoDB()); err != nil {
			return m, "", fmt.Errorf("the backup's Matrix crypto state does not check out, nothing was changed: %w", err)
		}
	}
	if err := keyfile.Write(stage, key); err != nil {
		return m, "", err
	}
	var moved string
	if exists {
		moved = fmt.Sprintf("%s.old-%s", dir, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(dir, moved); err != nil {
			return m, "", fmt.Errorf("move the old data dir aside: %w", err)
		}
	} else if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, "", fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(stage, dir); err != nil {
		return m, moved, fmt.Errorf("move the restored data into place: %w", err)
	}
	keep = true
	return m, moved, SyncDir(parent)
}

// Unpack decrypts the backup file in into dir/authbot.db and its extra
// files (the Matrix state) into dir/matrix/, all fsynced, and returns the
// key it carried. dir must not hold those files yet. The caller checks the
// result (Verify) before using it, and zeroes the key.
func Unpack(in, dir string, ids ...age.Identity) (Manifest, seal.Key, error) {
	f, err := os.Open(in)
	if err != nil {
		return Manifest{}, seal.Key{}, fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	db, err := os.OpenFile(datadir.At(dir).DB(), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Manifest{}, seal.Key{}, fmt.Errorf("restore: %w", err)
	}
	defer db.Close()
	var extra []*os.File
	defer func() {
		for _, x := range extra {
			x.Close()
		}
	}()
	// ReadFiles hands out only names from Allowed that the manifest lists,
	// so no name in the file chooses a path outside dir.
	m, key, err := ReadFiles(f, db, func(name string, _ int64) (io.Writer, error) {
		path := datadir.At(dir).Rel(name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		x, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		extra = append(extra, x)
		return x, nil
	}, ids...)
	if err != nil {
		return m, key, fmt.Errorf("%s: %w", in, err)
	}
	for _, x := range append(extra, db) {
		if err := x.Sync(); err != nil {
			seal.Zero(&key)
			return m, seal.Key{}, fmt.Errorf("restore: %w", err)
		}
	}
	dirs := []string{dir}
	if len(extra) > 0 {
		dirs = append(dirs, datadir.At(dir).Matrix())
	}
	for _, d := range dirs {
		if err := SyncDir(d); err != nil {
			seal.Zero(&key)
			return m, seal.Key{}, fmt.Errorf("restore: %w", err)
		}
	}
	return m, key, nil
}

func nonEmptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("data dir: %w", err)
	}
	return len(entries) > 0, nil
}
