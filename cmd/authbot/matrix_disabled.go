//go:build !goolm

package main

import (
	"context"
	"errors"
)

// newMatrix: this build has no Matrix support (the olm crypto is pure Go
// only with the goolm build tag).
func newMatrix(ctx context.Context, a *app, _ interface{ Undecryptable(string) }) (runner, error) {
	return nil, errors.New("this authbot was built without Matrix support; build with -tags goolm (make build)")
}
