package main

import (
	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/console"
	"github.com/authbot/authbot/bots/telegram"
	"github.com/authbot/authbot/bots/web"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/observe"
)

// Compile-time fits: every interface an adapter declares for what it is
// handed, and above all the optional ones it finds by type assertion
// (commands.Directory, deliverer, hurrier), which would otherwise stop working
// without a word when a signature drifts. The Matrix ones are in
// fits_matrix.go (goolm only).
var (
	_ telegram.Handler        = (*commands.Handler)(nil)
	_ commands.Directory      = (*commands.Handler)(nil) // every adapter's people directory
	_ telegram.Progress       = (*core.Service)(nil)
	_ telegram.HealthReporter = (*observe.AdapterHealth)(nil)
	_ console.Handler         = (*commands.Handler)(nil)
	_ web.Codes               = (*commands.Handler)(nil)
	_ web.Clock               = core.Clock(nil)
	_ commands.Observer       = (*observe.Metrics)(nil)
	_ deliverer               = (*telegram.Bot)(nil)
	_ hurrier                 = (*telegram.Bot)(nil)
	_ commands.WebPage        = (*webLinks)(nil)
)
