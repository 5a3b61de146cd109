package main

import (
	"context"
	"time"

	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/core/seal"
)

// openOutbox opens an adapter's persisted message lifecycle (bots/outbox)
// in the app's database, sealed under a key derived for it, counted in
// serve's metrics.
func (a *app) openOutbox(ctx context.Context, platform string, maxAge time.Duration) (*outbox.Outbox, error) {
	key := a.svc.DeriveKey(outbox.SealPurpose)
	defer seal.Zero(&key) // Open keeps its own copy
	opts := outbox.Options{Platform: platform, Clock: a.clock, Log: a.log.With("adapter", platform), MaxAge: maxAge}
	if a.metrics != nil {
		opts.Observer = a.metrics
	}
	return outbox.Open(ctx, a.store, key, opts)
}
