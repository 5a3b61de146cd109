package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/lang"
)

// Runtime people: /invite NAME, /people, /remove NAME (the bot's admins),
// /link (any person), and HandleStranger for the messages that make a
// stranger a person: /start TOKEN (Telegram deep link), /join TOKEN, and
// /link CODE from a second identity.
//
// Who is a person, and who an admin, is core's people directory
// (core/directory.go): the config users handed to it at start-up and the
// people added at runtime. The adapters ask it through Directory.

// isAdmin: /invite and /remove need a config admin (admin: true).
func (h *Handler) isAdmin(person string) bool { return h.svc.IsAdmin(person) }

// knownPerson is whether name is one of the bot's people (/vault add
// refuses others). A lookup that fails counts as no, and is logged.
func (h *Handler) knownPerson(ctx context.Context, name string) bool {
	ok, err := h.svc.IsPerson(ctx, name)
	if err != nil {
		h.opts.Log.Error("looking up a person", "err", err)
	}
	return ok && err == nil
}

// cmdInvite is for admins only (the table says so; policy checks it).
func (h *Handler) cmdInvite(ctx context.Context, req Request, args string) []Reply {
	name := strings.TrimSpace(args)
	if name == "" || strings.Contains(name, " ") {
		return []Reply{{Parts: plain(req.printer().T("people.invite_usage"))}}
	}
	if h.knownPerson(ctx, name) {
		return h.fail(req, core.ErrPersonExists)
	}
	token, expires, err := h.svc.CreateInvite(ctx, req.Person, name)
	if err != nil {
		return h.fail(req, err)
	}
	p := req.printer()
	tg := p.T("people.invite_tg_start", "Token", token)
	bot := h.opts.TelegramBot
	if bot == "" && h.opts.TelegramBotName != nil {
		bot = h.opts.TelegramBotName()
	}
	if bot != "" {
		tg = p.T("people.invite_tg_link", "URL", fmt.Sprintf("https://t.me/%s?start=%s", bot, token))
	}
	return []Reply{{
		Parts:     say(p, "people.invite", "Name", name, "Until", dateIn(p, expires), "Telegram", tg, "Join", lang.Code(MatrixPrefix+"join "+token)),
		Sensitive: true,
		ExpiresAt: expires,
	}}
}

func (h *Handler) cmdPeople(ctx context.Context, req Request, args string) []Reply {
	people, err := h.svc.People(ctx)
	if err != nil {
		return h.fail(req, err)
	}
	if len(people) == 0 {
		return []Reply{{Parts: plain(req.printer().T("people.none")), Sensitive: true}}
	}
	var b strings.Builder
	b.WriteString(req.printer().T("people.title"))
	for _, p := range people {
		var on []string
		for _, id := range p.Identities {
			on = append(on, id.Platform)
		}
		fmt.Fprintf(&b, "\n• %s — %s", p.Name, strings.Join(on, ", "))
		if p.AddedBy != "" && p.AddedBy != p.Name {
			b.WriteString(", " + req.printer().T("people.invited_by", "Person", p.AddedBy))
		}
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

func (h *Handler) cmdRemove(ctx context.Context, req Request, args string) []Reply {
	name := strings.TrimSpace(args)
	if name == "" {
		return []Reply{{Parts: plain(req.printer().T("people.remove_usage"))}}
	}
	if h.svc.IsConfigUser(name) {
		return []Reply{{Parts: plain(req.printer().T("people.remove_config", "Name", name))}}
	}
	if err := h.svc.RemovePerson(ctx, req.Person, name); err != nil {
		return h.fail(req, err)
	}
	return []Reply{{Parts: plain(req.printer().T("people.removed", "Name", name)), Sensitive: true}}
}

// cmdJoin answers a known person who sends an invite token: invites are
// for people the bot does not know yet (HandleStranger takes those).
func (h *Handler) cmdJoin(ctx context.Context, req Request, args string) []Reply {
	return []Reply{{Parts: plain(req.printer().T("people.join_known"))}}
}

func (h *Handler) cmdLink(ctx context.Context, req Request, args string) []Reply {
	if args != "" {
		return []Reply{{Parts: plain(req.printer().T("people.link_known"))}}
	}
	code, expires, err := h.svc.LinkCode(ctx, req.Person)
	if err != nil {
		return h.fail(req, err)
	}
	parts := say(req.printer(), "people.link", "Command", lang.Code("/link "+code))
	if prefixOf(req) == DefaultPrefix {
		// Element would intercept /link: say the Matrix form too.
		parts = say(req.printer(), "people.link_matrix", "Command", lang.Code("/link "+code), "Matrix", lang.Code(MatrixPrefix+"link "+code))
	}
	return []Reply{{
		Parts:     parts,
		Sensitive: true,
		ExpiresAt: expires,
	}}
}

// HandleStranger answers a message from an identity that is neither a
// config user nor a known runtime person. Only a private "/start TOKEN",
// "/join TOKEN" or "/link CODE" does anything: it registers the identity
// and returns the person's name, which the adapter uses as Request.Person
// from then on (see PersonFor). Anything else returns no replies, and the
// adapter answers with its usual refusal. appLang is the language the
// stranger's app reports (Telegram's language_code; "" when the platform
// says nothing): a stranger has no /language choice yet, so it alone picks
// the language of the welcome or of the reason it failed.
func (h *Handler) HandleStranger(ctx context.Context, platform, identity string, chat ChatKind, appLang, text string) (person string, replies []Reply) {
	// A stranger may have been sent the other platform's form of the
	// command (an invite says "!join" for Matrix), so both are read here.
	name, arg := splitCommand(strings.TrimSpace(Canonical(MatrixPrefix, text)))
	c := h.lookup(name)
	if chat != Private || arg == "" || len(arg) > 64 || c == nil || !c.stranger {
		return "", nil
	}
	name = c.name
	req := Request{Platform: platform, Chat: chat, Lang: appLang}
	req.pr = h.cat.Printer(lang.Match(appLang))
	if ok, wait := h.limiter.take("stranger:"+platform+":"+identity, rateLock, h.opts.Clock.Now()); !ok {
		return "", limited(req, rateLock, wait, false)
	}
	ctx = core.WithPlatform(ctx, platform)
	id := core.Identity{Platform: platform, ID: identity}
	var err error
	if name == "start" && core.LooksLikeClaim(arg) {
		return h.claim(ctx, req, arg, id)
	}
	if name == "link" {
		person, err = h.svc.Link(ctx, arg, id)
	} else {
		person, err = h.svc.AcceptInvite(ctx, arg, id)
	}
	if err != nil {
		return "", h.fail(req, err)
	}
	verb := req.printer().T("people.welcome", "Name", person) + " "
	if name == "link" {
		verb = req.printer().T("people.linked", "Name", person) + " "
	}
	return person, []Reply{{Parts: append(plain(verb), h.helpParts(req)...)}}
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
	// adapter refuses as usual. appLang is the language the stranger's app
	// reports ("" when unknown); the replies are in it.
	HandleStranger(ctx context.Context, platform, identity string, chat ChatKind, appLang, text string) (person string, replies []Reply)
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
