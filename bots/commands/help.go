package commands

import (
	"context"
	"fmt"
	"strings"
)

// /start and /help, both read from the command table.

func (h *Handler) cmdStart(ctx context.Context, req Request, args string) []Reply {
	intro := "Hello! I keep the backup keys of your two-factor accounts and give you the current code whenever you ask.\n\n"
	return []Reply{{Parts: append(plain(intro), h.helpParts(ctx)...)}}
}

func (h *Handler) cmdHelp(ctx context.Context, req Request, args string) []Reply {
	return []Reply{{Parts: h.helpFor(ctx, req, strings.ToLower(strings.TrimSpace(args)))}}
}

// helpParts is the everyday help page, for welcomes.
// Welcomes go to chats (strangers arrive on Telegram or Matrix), and those
// carry files.
func (h *Handler) helpParts(ctx context.Context) []Part {
	return h.helpFor(ctx, Request{Files: true}, "")
}

// helpFor is one /help page, read from the command table: the everyday
// commands, "team" (family and team) or "more"; admin commands only for
// admins, and only what works on the asking platform.
func (h *Handler) helpFor(ctx context.Context, req Request, topic string) []Part {
	switch topic {
	case "family", "teams", "vault", "vaults":
		topic = "team"
	case "all", "other":
		topic = "more"
	case "", "team", "more":
	default:
		return plain(fmt.Sprintf("There is no help page %q. Send /help, /help team or /help more.", topic))
	}
	var b strings.Builder
	switch topic {
	case "":
		b.WriteString("What I can do every day:\n")
	case "team":
		b.WriteString("Sharing with your family or team:\n")
	case "more":
		b.WriteString("More commands:\n")
	}
	for _, c := range commandTable() {
		if c.topic != topic || c.admin && !h.isAdmin(ctx, req.Person) || c.miniApp && !req.MiniApp {
			continue
		}
		line := "/" + c.name
		if c.name != c.menuName() {
			line += " (or /" + c.menuName() + ")"
		}
		if c.args != "" {
			line += " " + c.args
		}
		fmt.Fprintf(&b, "%s — %s\n", line, c.help)
	}
	if topic == "" {
		// Screenshots and files only reach the bot where a chat carries them.
		if !req.Files {
			b.WriteString("\nYou can also paste an otpauth:// link; export files from other apps go in with: authbot import FILE.\n")
		} else {
			b.WriteString("\nYou can also paste an otpauth:// link, or send a screenshot of a QR code or an export file from another app.\n")
		}
		b.WriteString("Example: /add binance JBSW Y3DP EHPK 3PXP, then /code binance.\n")
		b.WriteString("More: /help team (family and team), /help more (rename, delete, lock…).")
	}
	return plain(strings.TrimRight(b.String(), "\n"))
}
