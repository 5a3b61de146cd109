package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core"
)

// Shared vaults: /vault new|add|remove|list (the sentences for their
// errors are describeTeam in explain.go). /code team/aws and /add team/aws
// KEY go through the ordinary commands: core resolves the vault part.

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
		if !h.knownPerson(ctx, rest[1]) {
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
