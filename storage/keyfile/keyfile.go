// Package keyfile finds authbot's master key: from the environment when the
// caller passes one, otherwise from <dir>/master.key, which is created on
// first run. It also replaces the key: Rotate re-keys the database and the
// file in crash-safe steps, and Settle, run at every start-up, finishes or
// undoes a rotation that was interrupted (rotate.go).
//
// The key never appears in an error or a log line. Errors name the file (or
// the variable) and say what is wrong with it.
package keyfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/datadir"
)

// FileName is the key file's name inside the data directory.
const FileName = datadir.KeyName

// EnvVar is the variable main reads and passes to Load as fromEnv. Only
// main reads the environment; the name lives here so messages can say it.
const EnvVar = "AUTHBOT_MASTER_KEY"

// maxFileSize bounds what Load reads: a key file is 45 bytes.
const maxFileSize = 1024

// Source says where Load found the key.
type Source int

const (
	// FromEnv: the key came from the environment variable.
	FromEnv Source = iota + 1
	// FromFile: the key was read from an existing key file.
	FromFile
	// Created: there was no key file; a new key was made and saved.
	Created
)

func (s Source) String() string {
	switch s {
	case FromEnv:
		return "environment (" + EnvVar + ")"
	case FromFile:
		return "key file"
	case Created:
		return "new key file"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// ErrInsecureMode is wrapped when the key file can be read or written by
// users other than its owner.
var ErrInsecureMode = errors.New("key file is accessible to other users")

// Load returns the master key. If fromEnv is not empty it is parsed as the
// key (see seal.ParseKey) and the file is not touched. Otherwise
// <dir>/master.key is read; if it does not exist, a new random key is
// written there with mode 0600 (dir created 0700 if needed) and Source is
// Created. When two processes start at once on an empty dir, exactly one
// creates the key and both return it.
//
// Errors name the file and the problem: a mode letting group or others in
// (ErrInsecureMode, with the chmod to run), an empty file, text that is not
// base64 or not 32 bytes (wrapping seal.ErrKeyFormat), or the I/O error.
func Load(dir string, fromEnv string) (seal.Key, Source, error) {
	if fromEnv != "" {
		k, err := seal.ParseKey(fromEnv)
		if err != nil {
			return seal.Key{}, 0, fmt.Errorf("%s: %w", EnvVar, err)
		}
		return k, FromEnv, nil
	}
	path := filepath.Join(dir, FileName)
	k, err := read(path)
	if err == nil {
		return k, FromFile, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return seal.Key{}, 0, err
	}
	k, err = seal.NewKey()
	if err != nil {
		return seal.Key{}, 0, err
	}
	switch err := create(dir, path, &k); {
	case err == nil:
		return k, Created, nil
	case errors.Is(err, fs.ErrExist):
		// Another starter won the race; use its key.
		seal.Zero(&k)
		k, err := read(path)
		if err != nil {
			return seal.Key{}, 0, err
		}
		return k, FromFile, nil
	default:
		seal.Zero(&k)
		return seal.Key{}, 0, err
	}
}

func read(path string) (seal.Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return seal.Key{}, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return seal.Key{}, fmt.Errorf("read key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return seal.Key{}, fmt.Errorf("key file %s is not a regular file", path)
	}
	// Checked on the open file, not the name, so a swap between the check
	// and the read cannot slip past it.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return seal.Key{}, fmt.Errorf("%w: %s has mode %04o; run: chmod 600 %s", ErrInsecureMode, path, perm, path)
	}
	buf := make([]byte, maxFileSize+1)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return seal.Key{}, fmt.Errorf("read key file %s: %w", path, err)
	}
	if n > maxFileSize {
		return seal.Key{}, fmt.Errorf("key file %s is too large to be a key (over %d bytes)", path, maxFileSize)
	}
	if n == 0 {
		return seal.Key{}, fmt.Errorf("key file %s is empty; restore it from your backup, or remove it only if this data dir has no accounts yet", path)
	}
	k, err := seal.ParseKey(string(buf[:n]))
	if err != nil {
		return seal.Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// create writes a new key file that appears complete or not at all: the key
// goes to a temporary file that is fsynced, then hard-linked to the final
// name. Unlike rename, link fails when the name exists (fs.ErrExist), which
// gives O_EXCL semantics: two starters cannot overwrite each other's key.
func create(dir, path string, k *seal.Key) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key file directory: %w", err)
	}
	tmp, err := writeTemp(dir, k)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("create key file: %w", err)
	}
	return syncDir(dir)
}

// Write replaces <dir>/master.key with k atomically (temporary file, fsync,
// rename, fsync of the directory), for key rotation: a crash leaves either
// the old key or the new one, never a mix or nothing.
func Write(dir string, k seal.Key) error {
	defer seal.Zero(&k)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key file directory: %w", err)
	}
	tmp, err := writeTemp(dir, &k)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, FileName)
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace key file: %w", err)
	}
	return syncDir(dir)
}

// writeTemp writes k as base64 plus newline to a new 0600 file in dir and
// returns its name.
func writeTemp(dir string, k *seal.Key) (string, error) {
	// CreateTemp makes the file 0600 with O_EXCL.
	f, err := os.CreateTemp(dir, "."+FileName+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write key file: %w", err)
	}
	name := f.Name()
	data := []byte(seal.Encode(k) + "\n")
	defer clear(data)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync() // the key must be on disk before its name is
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write key file: %w", err)
	}
	return name, nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync key file directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync key file directory %s: %w", dir, err)
	}
	return nil
}
