package commands

import (
	"context"
	"fmt"
	"strings"
)

// /start and /help, both read from the command table.

func (h *Handler) cmdStart(ctx context.Context, req Request, args string) []Reply {
	p := h.printer(req)
	// The help page for this channel: the console takes no pictures, so
	// it is told to paste a link or run authbot import, not to send a
	// screenshot.
	return []Reply{{Parts: append(plain(p.T("help.hello")+"\n\n"), h.helpFor(Request{Files: req.Files, pr: req.pr}, "")...)}}
}

func (h *Handler) cmdHelp(ctx context.Context, req Request, args string) []Reply {
	return []Reply{{Parts: h.helpFor(req, strings.ToLower(strings.TrimSpace(args)))}}
}

// helpParts is the everyday help page, for welcomes, in req's language.
// Welcomes go to chats (strangers arrive on Telegram or Matrix), and those
// carry files.
func (h *Handler) helpParts(req Request) []Part {
	return h.helpFor(Request{Files: true, pr: req.pr}, "")
}

// helpFor is one /help page, read from the command table: the everyday
// commands, "team" (family and team) or "more"; admin commands only for
// admins, and only what works on the asking platform.
func (h *Handler) helpFor(req Request, topic string) []Part {
	p := h.printer(req)
	switch topic {
	case "family", "teams", "vault", "vaults":
		topic = "team"
	case "all", "other":
		topic = "more"
	case "", "team", "more":
	default:
		return say(p, "help.no_page", "Topic", clip(topic, 32))
	}
	var b strings.Builder
	switch topic {
	case "":
		b.WriteString(p.T("help.title_everyday") + "\n")
	case "team":
		b.WriteString(p.T("help.title_team") + "\n")
	case "more":
		b.WriteString(p.T("help.title_more") + "\n")
	}
	for _, c := range commandTable() {
		if c.topic != topic || c.admin && !h.isAdmin(req.Person) || c.miniApp && !req.MiniApp {
			continue
		}
		line := "/" + c.name
		if c.name != c.menuName() {
			line += " " + p.T("help.alias", "Command", "/"+c.menuName())
		}
		if c.args != "" {
			line += " " + c.args
		}
		fmt.Fprintf(&b, "%s — %s\n", line, c.helpLine(p))
	}
	if topic == "" {
		// Screenshots and files only reach the bot where a chat carries them.
		if !req.Files {
			b.WriteString("\n" + p.T("help.paste_console") + "\n")
		} else {
			b.WriteString("\n" + p.T("help.paste_chat") + "\n")
		}
		b.WriteString(p.T("help.example") + "\n")
		b.WriteString(p.T("help.more"))
	}
	return plain(strings.TrimRight(b.String(), "\n"))
}

// clip keeps what a person typed short when it is said back to them.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
