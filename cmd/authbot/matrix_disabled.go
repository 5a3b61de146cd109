//go:build !goolm

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/authbot/authbot/core"
)

// newMatrix: this build has no Matrix support (the olm crypto is pure Go
// only with the goolm build tag).
func newMatrix(ctx context.Context, a *app, _ interface{ Undecryptable(string) }) (runner, error) {
	return nil, errors.New("this authbot was built without Matrix support; build with -tags goolm (make build)")
}

// repickleMatrix: without Matrix support there is no Matrix store to
// re-pickle; the old pickle key stays recorded until a Matrix build runs.
func repickleMatrix(context.Context, *core.Service, string, *slog.Logger) error { return nil }

func repickleMatrixIn(context.Context, *core.Service, string, string, *slog.Logger) error { return nil }
