//go:build !goolm

package backup

import (
	"context"
	"errors"
)

// SQLiteSupported reports whether this build can copy and check the
// Matrix crypto store: not without the goolm tag, which builds have no
// Matrix adapter either.
const SQLiteSupported = false

var errNoSQLite = errors.New("this authbot was built without Matrix support (build with -tags goolm) and cannot copy the Matrix crypto store")

// SnapshotSQLite is not available in this build.
func SnapshotSQLite(ctx context.Context, src, dst string) error { return errNoSQLite }

// CheckSQLite is not available in this build.
func CheckSQLite(ctx context.Context, path string) error { return errNoSQLite }
