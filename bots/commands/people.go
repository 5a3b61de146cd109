package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core"
)

// Runtime people: /invite NAME, /people, /remove NAME (the bot's admins),
// /link (any person), and HandleStranger for the messages that make a
// stranger a person: /start TOKEN (Telegram deep link), /join TOKEN, and
// /link CODE from a second identity.
//
// Who is a person, and who an admin, is core's people directory
// (core/directory.go): the config users handed to it at start-up and the
// people added at runtime. The adapters ask it through Directory.

// isAdmin: /invite and /remove need an admin (a config admin, or the
// person who claimed the bot). A lookup that fails counts as no, and is
// logged.
func (h *Handler) isAdmin(ctx context.Context, person string) bool {
	ok, err := h.svc.IsAdmin(ctx, person)
	if err != nil {
		h.opts.Log.Error("looking up an admin", "err", err)
	}
	return ok && err == nil
}

// knownPerson is whether name is one of the bot's people (/vault add
// refuses others). A lookup that fails counts as no, and is logged.
func (h *Handler) knownPerson(ctx context.Context, name string) bool {
	ok, err := h.svc.IsPerson(ctx, name)
	if err != nil {
		h.opts.Log.Error("looking up a person", "err", err)
	}
	return ok && err == nil
}

const adminsOnly = "Only the bot's admins can do that."

// cmdInvite is for admins only (the table says so; policy checks it).
func (h *Handler) cmdInvite(ctx context.Context, req Request, args string) []Reply {
	name := strings.TrimSpace(args)
	if name == "" || strings.Contains(name, " ") {
		return []Reply{{Parts: plain("Use: /invite NAME — the name they will have here, for example /invite bob.")}}
	}
	if h.knownPerson(ctx, name) {
		return h.fail(core.ErrPersonExists)
	}
	token, expires, err := h.svc.CreateInvite(ctx, req.Person, name)
	if err != nil {
		return h.fail(err)
	}
	tg := "send /start " + token + " to this bot on Telegram"
	bot := h.opts.TelegramBot
	if bot == "" && h.opts.TelegramBotName != nil {
		bot = h.opts.TelegramBotName()
	}
	if bot != "" {
		tg = fmt.Sprintf("open https://t.me/%s?start=%s", bot, token)
	}
	return []Reply{{
		Parts: []Part{{Text: fmt.Sprintf("Invite for %s, usable once until %s UTC. Send them this: %s, or on Matrix send ", name, expires.Format("Jan 2 15:04"), tg)},
			{Text: MatrixPrefix + "join " + token, Code: true}, {Text: " to the bot in a direct chat."}},
		Sensitive: true,
		ExpiresAt: expires,
	}}
}

func (h *Handler) cmdPeople(ctx context.Context, req Request, args string) []Reply {
	people, err := h.svc.People(ctx)
	if err != nil {
		return h.fail(err)
	}
	if len(people) == 0 {
		return []Reply{{Parts: plain("Nobody was added with /invite yet; the people in the config file are the only ones here."), Sensitive: true}}
	}
	var b strings.Builder
	b.WriteString("People added here (the config file's people are not listed):")
	for _, p := range people {
		var on []string
		for _, id := range p.Identities {
			on = append(on, id.Platform)
		}
		fmt.Fprintf(&b, "\n• %s — %s", p.Name, strings.Join(on, ", "))
		if p.AddedBy != "" && p.AddedBy != p.Name {
			fmt.Fprintf(&b, ", invited by %s", p.AddedBy)
		}
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

func (h *Handler) cmdRemove(ctx context.Context, req Request, args string) []Reply {
	name := strings.TrimSpace(args)
	if name == "" {
		return []Reply{{Parts: plain("Use: /remove NAME. Everything only they could read is deleted.")}}
	}
	if h.svc.IsConfigUser(name) {
		return []Reply{{Parts: plain(name + " is in the config file: remove them there.")}}
	}
	if err := h.svc.RemovePerson(ctx, req.Person, name); err != nil {
		return h.fail(err)
	}
	return []Reply{{Parts: plain(fmt.Sprintf("Removed %s and everything only they could read.", name)), Sensitive: true}}
}

// cmdJoin answers a known person who sends an invite token: invites are
// for people the bot does not know yet (HandleStranger takes those).
func (h *Handler) cmdJoin(ctx context.Context, req Request, args string) []Reply {
	return []Reply{{Parts: plain("You are already known here; an invite is for someone the bot does not know yet.")}}
}

func (h *Handler) cmdLink(ctx context.Context, req Request, args string) []Reply {
	if args != "" {
		return []Reply{{Parts: plain("You are already known here. Send /link alone to get a code for your other chat account.")}}
	}
	code, expires, err := h.svc.LinkCode(ctx, req.Person)
	if err != nil {
		return h.fail(err)
	}
	parts := []Part{{Text: "From your other chat account (Telegram or Matrix), send this to the bot within 10 minutes: "},
		{Text: "/link " + code, Code: true}}
	if prefixOf(req) == DefaultPrefix {
		// Element would intercept /link: say the Matrix form too.
		parts = append(parts, Part{Text: " (from Matrix: "}, Part{Text: MatrixPrefix + "link " + code, Code: true}, Part{Text: ")"})
	}
	return []Reply{{
		Parts:     append(parts, Part{Text: ". It then sees the same accounts."}),
		Sensitive: true,
		ExpiresAt: expires,
	}}
}

// HandleStranger answers a message from an identity that is neither a
// config user nor a known runtime person. Only a private "/start TOKEN",
// "/join TOKEN" or "/link CODE" does anything: it registers the identity
// and returns the person's name, which the adapter uses as Request.Person
// from then on (see PersonFor). Anything else returns no replies, and the
// adapter answers with its usual refusal.
func (h *Handler) HandleStranger(ctx context.Context, platform, identity string, chat ChatKind, text string) (person string, replies []Reply) {
	// A stranger may have been sent the other platform's form of the
	// command (an invite says "!join" for Matrix), so both are read here.
	name, arg := splitCommand(strings.TrimSpace(Canonical(MatrixPrefix, text)))
	c := h.lookup(name)
	if chat != Private || arg == "" || len(arg) > 64 || c == nil || !c.stranger {
		return "", nil
	}
	name = c.name
	if ok, wait := h.limiter.take("stranger:"+platform+":"+identity, rateLock, h.opts.Clock.Now()); !ok {
		return "", limited(rateLock, wait, false)
	}
	ctx = core.WithPlatform(ctx, platform)
	id := core.Identity{Platform: platform, ID: identity}
	var err error
	if name == "start" && core.LooksLikeClaim(arg) {
		return h.claim(ctx, platform, arg, id)
	}
	if name == "link" {
		person, err = h.svc.Link(ctx, arg, id)
	} else {
		person, err = h.svc.AcceptInvite(ctx, arg, id)
	}
	if err != nil {
		return "", h.fail(err)
	}
	verb := "Welcome, " + person + "! "
	if name == "link" {
		verb = "Linked: this chat account is " + person + " now, with the same accounts. "
	}
	return person, []Reply{{Parts: append(plain(verb), h.helpParts(ctx)...)}}
}

// Directory is what a chat adapter asks about people; *Handler has it
// (the wiring asserts it), answering from core's people directory. It is
// declared once, here, for every adapter.
type Directory interface {
	// PersonFor returns the person an identity belongs to (a config user
	// or someone added at runtime), "" for a stranger.
	PersonFor(ctx context.Context, platform, identity string) (string, error)
	// IdentitiesOf returns the ids person has on platform, where replies
	// addressed to them (Reply.To) go.
	IdentitiesOf(ctx context.Context, person, platform string) ([]string, error)
	// HandleStranger answers a message from someone unknown: /start TOKEN,
	// /join TOKEN and /link CODE make them a person. No replies means the
	// adapter refuses as usual.
	HandleStranger(ctx context.Context, platform, identity string, chat ChatKind, text string) (person string, replies []Reply)
	// ExpectsNewcomers reports whether an invite or link code is open, so
	// an adapter that must accept a chat first (Matrix) may accept a
	// stranger's.
	ExpectsNewcomers(ctx context.Context) bool
}

// PersonFor returns the person an identity belongs to, "" for a stranger.
func (h *Handler) PersonFor(ctx context.Context, platform, identity string) (string, error) {
	return h.svc.PersonOf(ctx, core.Identity{Platform: platform, ID: identity})
}

// IdentitiesOf returns the ids person has on platform: the config's and
// those linked at runtime.
func (h *Handler) IdentitiesOf(ctx context.Context, person, platform string) ([]string, error) {
	return h.svc.IdentitiesOf(ctx, person, platform)
}

// ExpectsNewcomers reports whether someone unknown may be about to send an
// invite token or link code: adapters that must open a chat first (Matrix)
// accept a stranger's chat only then. An error counts as no.
func (h *Handler) ExpectsNewcomers(ctx context.Context) bool {
	ok, err := h.svc.ExpectsNewcomers(ctx)
	if err != nil {
		h.opts.Log.Error("checking for open invites", "err", err)
	}
	return ok && err == nil
}
