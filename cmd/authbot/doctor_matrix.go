//go:build goolm

package main

import (
	"context"
	"errors"

	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/matrix"
	"github.com/authbot/authbot/config"
)

var errNoMatrix = errors.New("no Matrix support in this build")

func checkMatrixLogin(ctx context.Context, mc config.Matrix) (string, error) {
	who, err := matrix.CheckLogin(ctx, mc.Homeserver, id.UserID(mc.UserID), mc.Password, mc.AccessToken)
	return string(who), err
}
