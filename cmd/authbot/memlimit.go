package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/lang"
)

// applyMemoryLimit sets the Go runtime's soft memory limit from the
// config's memory_limit, unless GOMEMLIMIT is set (the runtime read it at
// start and it wins). It returns a function restoring the previous limit
// (tests run serve in-process).
func applyMemoryLimit(cfg *config.Config, getenv env, log *slog.Logger) (restore func()) {
	if getenv("GOMEMLIMIT") != "" {
		log.Info("memory limit from GOMEMLIMIT", "bytes", debug.SetMemoryLimit(-1))
		return func() {}
	}
	prev := debug.SetMemoryLimit(int64(cfg.MemoryLimit))
	log.Debug("memory limit", "bytes", int64(cfg.MemoryLimit))
	return func() { debug.SetMemoryLimit(prev) }
}

// settleAfter is how long after every chat adapter's first good answer
// serve counts its start-up as over: by then the Telegram adapter has set
// its eight command menus and is long-polling.
const settleAfter = 5 * time.Second

// settle waits for the end of start-up (checked: the database's
// background check has passed; then every adapter reached its platform,
// then settleAfter) and gives back what only start-up needed
// (releaseStartup). It does nothing if ctx ends first.
func settle(ctx context.Context, a *app, checked <-chan struct{}) {
	select {
	case <-checked:
	case <-ctx.Done():
		return
	}
	if a.metrics != nil {
		if err := a.metrics.WaitReached(ctx); err != nil {
			return
		}
	}
	t := time.NewTimer(settleAfter)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return
	}
	releaseStartup(a.log)
	// bbolt's map: start-up read every person's records after the check
	// had dropped the pages it read (storage/bolt).
	if s, ok := a.store.(interface{ DropResident(context.Context) error }); ok {
		if err := s.DropResident(ctx); err != nil {
			a.log.Debug("could not drop the database's pages", "err", err)
		}
	}
}

// releaseStartup gives back the memory serve's start-up used and idle
// serving does not: the language bundles built for the command menus
// (lang.Catalog.Release), the heap's garbage from parsing the config, the
// catalogues and the database's directory (debug.FreeOSMemory returns it
// to the kernel at once instead of over minutes), and the executable's
// pages that only package initialisation and start-up code touched
// (dropExecutablePages; Linux only). What serving needs afterwards is
// faulted in again from the page cache or allocated again, so nothing is
// hidden: the resident set that remains is what idle serving uses.
func releaseStartup(log *slog.Logger) {
	if cat, err := lang.Load(); err == nil {
		cat.Release()
	}
	debug.FreeOSMemory()
	n, err := dropExecutablePages()
	if err != nil {
		log.Debug("could not drop start-up pages", "err", err)
		return
	}
	log.Debug("start-up memory released", "executable_bytes", n)
}
