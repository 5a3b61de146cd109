package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core"
)

// Shared vaults: /vault new|add|remove|list, and the sentences for their
// errors. /code team/aws and /add team/aws KEY go through the ordinary
// commands: core resolves the vault part.

const vaultUsage = "Use:\n" +
	"/vault new NAME — make a shared vault (you are its admin)\n" +
	"/vault add NAME PERSON [codes|manager|admin] — add someone (codes-only by default) or change their role\n" +
	"/vault remove NAME PERSON — take someone out (the vault gets a new key)\n" +
	"/vault approval NAME on|off — codes need an admin's approval\n" +
	"/vault list — your vaults and their members\n" +
	"Then /add NAME/ACCOUNT KEY and /code NAME/ACCOUNT."

func (h *Handler) cmdVault(ctx context.Context, req Request, args string) []Reply {
	fields := strings.Fields(args)
	if len(fields) == 0 {
		return h.vaultList(ctx, req)
	}
	sub, rest := strings.ToLower(fields[0]), fields[1:]
	switch {
	case sub == "list" && len(rest) == 0:
		return h.vaultList(ctx, req)
	case sub == "new" && len(rest) == 1:
		info, err := h.svc.CreateVault(ctx, req.Person, rest[0])
		if err != nil {
			return h.fail(err)
		}
		return []Reply{{Parts: plain(fmt.Sprintf("Made the shared vault %s; you are its admin. Add people with /vault add %s PERSON, and accounts with /add %s/NAME KEY.",
			info.Name, info.Name, info.Name)), Sensitive: true}}
	case sub == "add" && (len(rest) == 2 || len(rest) == 3):
		role := core.RoleCodesOnly
		if len(rest) == 3 {
			r, err := core.ParseRole(rest[2])
			if err != nil {
				return h.fail(err)
			}
			role = r
		}
		if !h.knownPerson(rest[1]) && !h.knownRuntime(ctx, rest[1]) {
			return []Reply{{Parts: plain(fmt.Sprintf("I do not know anyone called %s. Use the names from the bot's people list.", rest[1]))}}
		}
		info, err := h.svc.AddMember(ctx, req.Person, rest[0], rest[1], role)
		if err != nil {
			return h.fail(err)
		}
		return []Reply{{Parts: plain(fmt.Sprintf("%s is now in %s as %s. They get codes with /code %s/NAME.",
			rest[1], info.Name, roleWords(role), info.Name)), Sensitive: true}}
	case sub == "approval" && len(rest) == 2 && (rest[1] == "on" || rest[1] == "off"):
		info, err := h.svc.SetApproval(ctx, req.Person, rest[0], rest[1] == "on")
		if err != nil {
			return h.fail(err)
		}
		if info.Approval {
			return []Reply{{Parts: plain(fmt.Sprintf("Codes in %s now need an admin's approval: members send /code %s/NAME REASON.", info.Name, info.Name))}}
		}
		return []Reply{{Parts: plain(fmt.Sprintf("Codes in %s no longer need approval.", info.Name))}}
	case sub == "remove" && len(rest) == 2:
		info, err := h.svc.RemoveMember(ctx, req.Person, rest[0], rest[1])
		if err != nil {
			return h.fail(err)
		}
		return []Reply{{Parts: plain(fmt.Sprintf("%s is out of %s. The vault has a new key, so nothing added from now on can be opened with what they had.",
			rest[1], info.Name)), Sensitive: true}}
	}
	return []Reply{{Parts: plain(vaultUsage)}}
}

func (h *Handler) knownPerson(name string) bool {
	return h.opts.IsPerson == nil || h.opts.IsPerson(name)
}

func (h *Handler) vaultList(ctx context.Context, req Request) []Reply {
	vs, err := h.svc.Vaults(ctx, req.Person)
	if err != nil {
		return h.fail(err)
	}
	if len(vs) == 0 {
		return []Reply{{Parts: plain("You are not in any shared vault. Make one with /vault new NAME.")}}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Your shared vaults (%d):", len(vs))
	for _, v := range vs {
		fmt.Fprintf(&b, "\n• %s — you: %s, %d %s", v.Name, roleWords(v.Role), v.Accounts, plural(v.Accounts, "account", "accounts"))
		if v.Approval {
			b.WriteString(", codes need approval")
		}
		var ms []string
		for _, m := range v.Members {
			ms = append(ms, m.Person+" ("+roleWords(m.Role)+")")
		}
		b.WriteString("\n  members: " + strings.Join(ms, ", "))
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

func roleWords(r core.Role) string {
	switch r {
	case core.RoleAdmin:
		return "admin"
	case core.RoleManager:
		return "manager"
	}
	return "codes only"
}

// describeTeam explains the shared-vault errors; ok is false for others.
func describeTeam(err error) (string, bool) {
	var (
		nv *core.NoVaultError
		ve *core.VaultExistsError
		re *core.RoleError
		ml *core.MemberLockedError
		me *core.MemberError
	)
	switch {
	case errors.As(err, &nv):
		return fmt.Sprintf("You are not in a shared vault called %s. /vault list shows yours.", nv.Name), true
	case errors.As(err, &ve):
		return fmt.Sprintf("The name %s is taken. Pick another one.", ve.Name), true
	case errors.As(err, &re) && re.Admin:
		return fmt.Sprintf("Only the admins of %s can change who is in it.", re.Vault), true
	case errors.As(err, &re):
		return fmt.Sprintf("In %s you get codes only: the backup key stays hidden, and only its managers can change or export accounts. Ask an admin of %s.", re.Vault, re.Vault), true
	case errors.As(err, &ml):
		return fmt.Sprintf("%s has locked their vault with a passphrase, so I cannot give them the vault's key right now. Ask them to /unlock, then try again.", ml.Person), true
	case errors.As(err, &me) && me.Member:
		return fmt.Sprintf("%s is already in that vault with that role.", me.Person), true
	case errors.As(err, &me):
		return fmt.Sprintf("%s is not in that vault.", me.Person), true
	case errors.Is(err, core.ErrBadVaultName):
		return fmt.Sprintf("That vault name is not usable. Use up to %d letters, digits, '-', '_' or '.', for example team or family.", core.MaxVaultNameLen), true
	case errors.Is(err, core.ErrBadRole):
		return "Roles are codes (the default: codes only), manager (may add, rename and export) and admin (also changes who is in the vault).", true
	case errors.Is(err, core.ErrLastAdmin):
		return "A vault needs at least one admin. Make someone else admin first.", true
	case errors.Is(err, core.ErrSelf):
		return "You cannot change your own role. Ask another admin.", true
	}
	return "", false
}

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
