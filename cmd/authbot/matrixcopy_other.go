//go:build !goolm

package main

import (
	"context"
	"errors"
)

// matrixCopySupported: builds without goolm have no Matrix adapter and
// cannot open its store.
const matrixCopySupported = false

func copyMatrixState(ctx context.Context, fromPath, fromDSN, toPath, toDSN string) (int, error) {
	return 0, errors.New("this authbot was built without Matrix support (build with -tags goolm) and cannot copy the Matrix crypto store")
}

func exportMatrixState(ctx context.Context, dsn, path string) (int, bool, error) {
	return 0, false, nil // nothing this build could have written
}

func pgHasMatrixAccount(ctx context.Context, dsn string) (bool, error) { return false, nil }
