package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/authbot/authbot/core"
)

// openClaim prints a one-time claim code when Telegram runs and nobody can
// use the bot yet (no config users, no admin who claimed it): whoever
// sends /start CODE to the bot first becomes its admin (core/claim.go). The
// code goes to the log and, in words, to stderr, where the operator who
// just ran serve is looking.
func openClaim(ctx context.Context, a *app, stderr io.Writer) error {
	if !a.cfg.Telegram.Enabled() || len(a.cfg.Users) > 0 {
		return nil
	}
	code, expires, err := a.svc.OpenClaim(ctx)
	if errors.Is(err, core.ErrHasAdmin) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim code: %w", err)
	}
	a.log.Warn("nobody can use this bot yet: send the claim code to it on Telegram to become its admin",
		"claim_code", code, "valid_until", expires.Format("15:04 MST"), "single_use", true)
	if stderr != nil {
		fmt.Fprintf(stderr, "\nTo become this bot's admin, send this to your bot on Telegram within 30 minutes:\n\n    /start %s\n\n"+
			"(the first person to send it is the admin; a restart prints a new code until someone has)\n\n", code)
	}
	return nil
}
