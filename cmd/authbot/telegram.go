package main

import (
	"context"
	"errors"
)

// newTelegram is replaced by the Telegram adapter's wiring.
func newTelegram(ctx context.Context, a *app) (runner, error) {
	return nil, errors.New("the Telegram adapter is not built yet")
}
