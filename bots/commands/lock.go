package commands

import (
	"context"
	"fmt"
	"math"
	"time"
)

// The personal lock: /lock PASSPHRASE, /lock, /lock off, /unlock
// PASSPHRASE. Every message that carries a passphrase is deleted.

func (h *Handler) cmdLock(ctx context.Context, req Request, args string) []Reply {
	switch args {
	case "":
		if err := h.svc.LockNow(ctx, req.Person); err != nil {
			return h.fail(err)
		}
		return []Reply{{Parts: plain("Locked. Send /unlock PASSPHRASE when you need your codes.")}}
	case "off":
		if err := h.svc.RemovePassphrase(ctx, req.Person); err != nil {
			return h.fail(err)
		}
		return []Reply{{Parts: plain("Your passphrase is removed: your accounts open without it again.")}}
	}
	r := Reply{DeleteRequest: true}
	if err := h.svc.SetPassphrase(ctx, req.Person, args); err != nil {
		r.Parts = plain(h.explain(err) + deletionNote(req))
		return []Reply{r}
	}
	r.Parts = plain("Locked with your passphrase. Not even the person who runs this bot can open your accounts now; " +
		"send /unlock PASSPHRASE when you need a code. If you forget the passphrase, your accounts here are lost: keep it somewhere safe." +
		deletionNote(req))
	return []Reply{r}
}

func (h *Handler) cmdUnlock(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		return []Reply{{Parts: plain("Use: /unlock PASSPHRASE. I delete your message right away.")}}
	}
	until, err := h.svc.Unlock(ctx, req.Person, args)
	r := Reply{DeleteRequest: true}
	if err != nil {
		r.Parts = plain(h.explain(err) + deletionNote(req))
		return []Reply{r}
	}
	r.Parts = plain(fmt.Sprintf("Unlocked for %s. Send /lock to lock again sooner.%s",
		waitWords(until.Sub(h.opts.Clock.Now())), deletionNote(req)))
	return []Reply{r}
}

// waitWords says a duration the way a person would: "8 seconds", "15 minutes".
func waitWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		s := int(math.Ceil(d.Seconds()))
		return fmt.Sprintf("%d %s", s, plural(s, "second", "seconds"))
	case d < time.Hour:
		m := int(math.Ceil(d.Minutes()))
		return fmt.Sprintf("%d %s", m, plural(m, "minute", "minutes"))
	}
	hr := int(math.Ceil(d.Hours()))
	return fmt.Sprintf("%d %s", hr, plural(hr, "hour", "hours"))
}
