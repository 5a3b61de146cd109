package commands

import (
	"context"

	"github.com/authbot/authbot/core"
)

// claim answers "/start CODE" with a claim code (core/claim.go): the first
// person to send the code serve printed becomes the bot's admin. The log
// names the code by its public first group only, never its secret part.
func (h *Handler) claim(ctx context.Context, req Request, code string, id core.Identity) (string, []Reply) {
	platform := req.Platform
	person, err := h.svc.Claim(ctx, code, id)
	if err != nil {
		h.opts.Log.Warn("a claim code was refused", "platform", platform, "code", core.ClaimID(code)+"-…", "err", err)
		return "", h.fail(req, err)
	}
	h.opts.Log.Info("the bot was claimed: this identity is its admin now",
		"platform", platform, "code", core.ClaimID(code)+"-…", "person", person)
	intro := req.printer().T("claim.welcome", "Name", person) + "\n\n"
	return person, []Reply{{Parts: append(plain(intro), h.helpFor(Request{Person: person, Platform: platform, Files: true, pr: req.pr}, "")...)}}
}
