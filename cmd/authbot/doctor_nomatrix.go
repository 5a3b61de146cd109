//go:build !goolm

package main

import (
	"context"
	"errors"

	"github.com/authbot/authbot/config"
)

var errNoMatrix = errors.New("no Matrix support in this build")

func checkMatrixLogin(context.Context, config.Matrix) (string, error) { return "", errNoMatrix }
