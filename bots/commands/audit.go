package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/lang"
)

// auditShown is how many entries /audit shows.
const auditShown = 20

// cmdAudit: /audit VAULT shows a vault's recent entries to its admins;
// /audit alone shows what the person did with their own accounts.
func (h *Handler) cmdAudit(ctx context.Context, req Request, args string) []Reply {
	var (
		events []core.Event
		err    error
		empty  string
		title  string
	)
	p := req.printer()
	if name := strings.TrimSpace(args); name != "" {
		events, err = h.svc.VaultAudit(ctx, req.Person, name, auditShown)
		title, empty = p.T("audit.vault_title", "Vault", name), p.T("audit.vault_empty", "Vault", name)
	} else {
		events, err = h.svc.MyAudit(ctx, req.Person, auditShown)
		title, empty = p.T("audit.my_title"), p.T("audit.my_empty")
	}
	if err != nil {
		return h.fail(req, err)
	}
	if len(events) == 0 {
		return []Reply{{Parts: plain(empty), Sensitive: true}}
	}
	var b strings.Builder
	b.WriteString(title)
	for _, e := range events {
		b.WriteString("\n" + auditLine(p, e))
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

// auditLine is one entry in words; never a code or secret (the log has none).
func auditLine(p *lang.Printer, e core.Event) string {
	e = e.Printable() // person-typed fields: one line, no escapes
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", dateIn(p, e.Time), e.Person)
	if e.Platform != "" {
		fmt.Fprintf(&b, " (%s)", e.Platform)
	}
	what := string(e.Type)
	switch e.Type {
	case core.EventCode, core.EventExport, core.EventVaultCreated, core.EventMemberAdded, core.EventRoleChanged,
		core.EventMemberRemoved, core.EventAccountAdded, core.EventAccountDel, core.EventApproval, core.EventLock, core.EventPeople:
		what = p.T("audit.event." + string(e.Type))
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
