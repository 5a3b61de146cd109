//go:build goolm

package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // pure-Go SQLite, driver "sqlite" (as bots/matrix)
)

// SQLiteSupported reports whether this build can copy and check the
// Matrix crypto store (goolm builds, the ones with the Matrix adapter).
const SQLiteSupported = true

// sqliteURI is a file: URI for path: escaped, so no character of a path
// can add URI parameters.
func sqliteURI(path string, params string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: abs}).String() + "?" + params, nil
}

// SnapshotSQLite writes a consistent copy of the SQLite database at src to
// dst, which must not exist, with VACUUM INTO on a connection of its own.
// That is safe while `authbot serve` has the database open: the store runs
// in WAL mode, where a reader sees one committed state and neither blocks
// the bot's writes nor is blocked by them. The copy is a single file with
// no WAL beside it.
func SnapshotSQLite(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	uri, err := sqliteURI(src, "_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	if err := os.Chmod(dst, 0o600); err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	return nil
}

// CheckSQLite opens the SQLite file at path read-only and runs SQLite's
// integrity check over every page and index.
func CheckSQLite(ctx context.Context, path string) error {
	uri, err := sqliteURI(path, "mode=ro")
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer rows.Close()
	var problems []error
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("check %s: %w", path, err)
		}
		if line != "ok" && len(problems) < 5 {
			problems = append(problems, errors.New(line))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s: %w", path, errors.Join(problems...))
	}
	return nil
}
