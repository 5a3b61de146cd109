//go:build !authbot_crashhook

package main

import (
	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
)

// crashHook is the release build's: no hook (see crashhook.go).
func crashHook(h *commands.Handler, _ env) telegram.Handler { return h }
