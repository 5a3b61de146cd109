package main

import (
	"log/slog"
	"runtime/debug"

	"github.com/authbot/authbot/config"
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
