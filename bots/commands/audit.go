package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core"
)

// auditShown is how many entries /audit shows.
const auditShown = 20

// cmdAudit: /audit VAULT shows a vault's recent entries to its admins;
// /audit alone shows what the person did with their own accounts.
func (h *Handler) cmdAudit(ctx context.Context, req Request, args string) []Reply {
	var (
		events []core.Event
		err    error
		title  string
	)
	if name := strings.TrimSpace(args); name != "" {
		events, err = h.svc.VaultAudit(ctx, req.Person, name, auditShown)
		title = "Recent activity in " + name
	} else {
		events, err = h.svc.MyAudit(ctx, req.Person, auditShown)
		title = "Your recent activity"
	}
	if err != nil {
		return h.fail(err)
	}
	if len(events) == 0 {
		return []Reply{{Parts: plain(title + ": nothing yet."), Sensitive: true}}
	}
	var b strings.Builder
	b.WriteString(title + " (newest last, times UTC):")
	for _, e := range events {
		b.WriteString("\n" + auditLine(e))
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

// auditLine is one entry in words; never a code or secret (the log has none).
func auditLine(e core.Event) string {
	e = e.Printable() // person-typed fields: one line, no escapes
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Time.UTC().Format("Jan 2 15:04"), e.Person)
	if e.Platform != "" {
		fmt.Fprintf(&b, " (%s)", e.Platform)
	}
	what := map[core.EventType]string{
		core.EventCode: "got a code for", core.EventExport: "exported", core.EventVaultCreated: "made the vault",
		core.EventMemberAdded: "added", core.EventRoleChanged: "changed the role of", core.EventMemberRemoved: "removed",
		core.EventAccountAdded: "added the account", core.EventAccountDel: "deleted the account",
		core.EventApproval: "approval", core.EventLock: "lock", core.EventPeople: "people",
	}[e.Type]
	if what == "" {
		what = string(e.Type)
	}
	b.WriteString(" " + what)
	switch {
	case e.Account != "":
		b.WriteString(" " + core.Summary{Vault: e.Vault, Label: e.Account}.Name())
	case e.Vault != "" && e.Subject == "":
		b.WriteString(" " + e.Vault)
	}
	if e.Subject != "" {
		b.WriteString(" " + e.Subject)
	}
	if e.Detail != "" {
		b.WriteString(" (" + e.Detail + ")")
	}
	return b.String()
}
