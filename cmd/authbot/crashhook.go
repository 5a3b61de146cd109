//go:build authbot_crashhook

package main

import (
	"context"
	"os"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
)

// Test-only: binaries built with -tags authbot_crashhook (the poison-pill
// tests in bots/telegram) exit at once, as an out-of-memory kill would,
// while handling a message whose text is AUTHBOT_TEST_CRASH_ON. Release
// builds compile crashhook_off.go instead and have no such hook.

type crashingHandler struct {
	*commands.Handler
	text string
}

func (h crashingHandler) Handle(ctx context.Context, req commands.Request) []commands.Reply {
	if req.Text == h.text {
		os.Exit(86)
	}
	return h.Handler.Handle(ctx, req)
}

func crashHook(h *commands.Handler, getenv env) telegram.Handler {
	if text := getenv("AUTHBOT_TEST_CRASH_ON"); text != "" {
		return crashingHandler{Handler: h, text: text}
	}
	return h
}
