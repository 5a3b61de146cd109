package commands

import (
	"context"
	"math"
	"time"

	"github.com/authbot/authbot/lang"
)

// The personal lock: /lock PASSPHRASE, /lock, /lock off, /unlock
// PASSPHRASE. Every message that carries a passphrase is deleted.

func (h *Handler) cmdLock(ctx context.Context, req Request, args string) []Reply {
	switch args {
	case "":
		if err := h.svc.LockNow(ctx, req.Person); err != nil {
			return h.fail(req, err)
		}
		return []Reply{{Parts: plain(req.printer().T("lock.locked"))}}
	case "off":
		if err := h.svc.RemovePassphrase(ctx, req.Person); err != nil {
			return h.fail(req, err)
		}
		return []Reply{{Parts: plain(req.printer().T("lock.off"))}}
	}
	r := Reply{DeleteRequest: true}
	if err := h.svc.SetPassphrase(ctx, req.Person, args); err != nil {
		r.Parts = plain(h.explain(req, err) + deletionNote(req))
		return []Reply{r}
	}
	r.Parts = plain(req.printer().T("lock.set") + deletionNote(req))
	return []Reply{r}
}

func (h *Handler) cmdUnlock(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		return []Reply{{Parts: plain(req.printer().T("lock.unlock_usage"))}}
	}
	until, err := h.svc.Unlock(ctx, req.Person, args)
	r := Reply{DeleteRequest: true}
	if err != nil {
		r.Parts = plain(h.explain(req, err) + deletionNote(req))
		return []Reply{r}
	}
	r.Parts = plain(req.printer().T("lock.unlocked", "Wait", waitWords(req.printer(), until.Sub(h.opts.Clock.Now()))) + deletionNote(req))
	return []Reply{r}
}

// waitWords says a duration the way a person would: "8 seconds", "15 minutes".
func waitWords(p *lang.Printer, d time.Duration) string {
	switch {
	case d < time.Minute:
		return p.N("time.seconds", int(math.Ceil(d.Seconds())))
	case d < time.Hour:
		return p.N("time.minutes", int(math.Ceil(d.Minutes())))
	}
	return p.N("time.hours", int(math.Ceil(d.Hours())))
}
