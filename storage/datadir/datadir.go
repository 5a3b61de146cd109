// Package datadir names the files of authbot's data directory, in one
// place, so that serve, the offline subcommands, backups, restores, key
// rotation and the Matrix adapter all agree on where things are:
//
//	DIR/authbot.db          the bbolt database (storage/bolt), sealed records only
//	DIR/master.key          the master key (storage/keyfile), 0600
//	DIR/master.key.new      the key a rotation is moving to (keyfile.Rotate); only
//	                        present while a rotation runs or after one was interrupted
//	DIR/backup.sock         serve's snapshot socket for `authbot backup` (backup.Listen)
//	DIR/matrix/             the Matrix adapter's state dir (bots/matrix StateDir)
//	DIR/matrix/crypto.db    mautrix's crypto store (SQLite), pickles under a derived key
//	DIR/matrix/pending.json scheduled redactions of versions before the outbox
//	DIR/exports/            where `authbot chat` wrote export files before --save
//
// A backup archive (package backup) uses the same relative names for the
// files it carries, so a restore writes them back where they came from.
// The package has no dependencies: it only joins paths.
package datadir

import (
	"path"
	"path/filepath"
)

// Names of the entries in a data dir.
const (
	DBName     = "authbot.db"
	KeyName    = "master.key"
	NewKeyName = KeyName + ".new"
	SocketName = "backup.sock"
	MatrixName = "matrix"
	ExportsDir = "exports"
)

// Names inside the Matrix state dir (DIR/matrix).
const (
	CryptoDBName = "crypto.db"
	PendingName  = "pending.json"
)

// Paths relative to the data dir, slash-separated, as a backup archive
// names the Matrix files it carries.
const (
	RelMatrixCryptoDB = MatrixName + "/" + CryptoDBName
	RelMatrixPending  = MatrixName + "/" + PendingName
)

// Layout is one data dir. The zero Layout is the current directory.
type Layout struct {
	// Dir is the data dir itself.
	Dir string
}

// At returns the layout of the data dir dir.
func At(dir string) Layout { return Layout{Dir: dir} }

// DB is the bbolt database file.
func (l Layout) DB() string { return filepath.Join(l.Dir, DBName) }

// Key is the master key file.
func (l Layout) Key() string { return filepath.Join(l.Dir, KeyName) }

// NewKey is the key file a rotation writes before it re-keys the database.
func (l Layout) NewKey() string { return filepath.Join(l.Dir, NewKeyName) }

// Socket is serve's backup snapshot socket.
func (l Layout) Socket() string { return filepath.Join(l.Dir, SocketName) }

// Matrix is the Matrix adapter's state dir.
func (l Layout) Matrix() string { return filepath.Join(l.Dir, MatrixName) }

// MatrixCryptoDB is mautrix's SQLite crypto store.
func (l Layout) MatrixCryptoDB() string { return filepath.Join(l.Matrix(), CryptoDBName) }

// MatrixPending is the pre-outbox pending.json of the Matrix adapter.
func (l Layout) MatrixPending() string { return filepath.Join(l.Matrix(), PendingName) }

// Exports is the old default place of console export files.
func (l Layout) Exports() string { return filepath.Join(l.Dir, ExportsDir) }

// Rel turns a slash-separated name relative to the data dir (such as
// RelMatrixCryptoDB, or a name from a backup's allow-list) into a path.
func (l Layout) Rel(name string) string {
	return filepath.Join(l.Dir, filepath.FromSlash(path.Clean(name)))
}
