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
