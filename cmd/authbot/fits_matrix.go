//go:build goolm

package main

import (
	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/matrix"
	"github.com/authbot/authbot/observe"
)

// Compile-time fits for the Matrix adapter (see fits.go).
var (
	_ matrix.Handler         = (*commands.Handler)(nil)
	_ matrix.HealthReporter  = (*observe.AdapterHealth)(nil)
	_ matrix.DecryptObserver = (*observe.Metrics)(nil)
	_ deliverer              = (*matrix.Bot)(nil)
	_ hurrier                = (*matrix.Bot)(nil)
)
