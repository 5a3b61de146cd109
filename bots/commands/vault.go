package commands

import (
	"context"
	"strings"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/lang"
)

// Shared vaults: /vault new|add|remove|list (the sentences for their
// errors are describeTeam in explain.go). /code team/aws and /add team/aws
// KEY go through the ordinary commands: core resolves the vault part.

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
			return h.fail(req, err)
		}
		return []Reply{{Parts: plain(req.printer().T("vault.made", "Vault", info.Name)), Sensitive: true}}
	case sub == "add" && (len(rest) == 2 || len(rest) == 3):
		role := core.RoleCodesOnly
		if len(rest) == 3 {
			r, err := core.ParseRole(rest[2])
			if err != nil {
				return h.fail(req, err)
			}
			role = r
		}
		if !h.knownPerson(ctx, rest[1]) {
			return []Reply{{Parts: plain(req.printer().T("vault.unknown_person", "Person", rest[1]))}}
		}
		info, err := h.svc.AddMember(ctx, req.Person, rest[0], rest[1], role)
		if err != nil {
			return h.fail(req, err)
		}
		return []Reply{{Parts: plain(req.printer().T("vault.added", "Person", rest[1], "Vault", info.Name, "Role", roleWords(req.printer(), role))), Sensitive: true}}
	case sub == "approval" && len(rest) == 2 && (rest[1] == "on" || rest[1] == "off"):
		info, err := h.svc.SetApproval(ctx, req.Person, rest[0], rest[1] == "on")
		if err != nil {
			return h.fail(req, err)
		}
		if info.Approval {
			return []Reply{{Parts: plain(req.printer().T("vault.approval_on", "Vault", info.Name))}}
		}
		return []Reply{{Parts: plain(req.printer().T("vault.approval_off", "Vault", info.Name))}}
	case sub == "remove" && len(rest) == 2:
		info, err := h.svc.RemoveMember(ctx, req.Person, rest[0], rest[1])
		if err != nil {
			return h.fail(req, err)
		}
		return []Reply{{Parts: plain(req.printer().T("vault.removed", "Person", rest[1], "Vault", info.Name)), Sensitive: true}}
	}
	return []Reply{{Parts: plain(req.printer().T("vault.usage"))}}
}

func (h *Handler) vaultList(ctx context.Context, req Request) []Reply {
	vs, err := h.svc.Vaults(ctx, req.Person)
	if err != nil {
		return h.fail(req, err)
	}
	if len(vs) == 0 {
		return []Reply{{Parts: plain(req.printer().T("vault.none"))}}
	}
	p := req.printer()
	var b strings.Builder
	b.WriteString(p.N("vault.list_title", len(vs)))
	for _, v := range vs {
		b.WriteString("\n• " + p.N("vault.list_line", v.Accounts, "Vault", v.Name, "Role", roleWords(p, v.Role)))
		if v.Approval {
			b.WriteString(", " + p.T("vault.list_approval"))
		}
		var ms []string
		for _, m := range v.Members {
			ms = append(ms, m.Person+" ("+roleWords(p, m.Role)+")")
		}
		b.WriteString("\n  " + p.T("vault.list_members", "Members", strings.Join(ms, ", ")))
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

func roleWords(p *lang.Printer, r core.Role) string {
	switch r {
	case core.RoleAdmin:
		return p.T("role.admin")
	case core.RoleManager:
		return p.T("role.manager")
	}
	return p.T("role.codes")
}
