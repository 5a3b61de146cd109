package commands

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/lang"
)

// The web page (bots/web) is one more front end of this command language:
// it asks for the same things /code does, through the methods below, so
// the rate limits, the roles, the audit log and the wording of refusals
// are the ones chat has. /app and /web are the chat side: a Telegram Mini
// App button and a one-time link.

// WebPlatform is the Request.Platform (and the audit log's platform) of
// requests made from the web page.
const WebPlatform = "web"

// WebPage is what /app and /web need from the web front end; *web.Server
// has it. Options.Web nil means the page is off.
type WebPage interface {
	// AppURL is the page's address, for Telegram's web_app buttons; ""
	// while the page is not served (authbot chat), which /app and /web
	// then say.
	AppURL() string
	// NewLink returns a single-use link that opens the page as person, and
	// the tag that names it once it is used (Reply.Tag).
	NewLink(ctx context.Context, person string) (link, tag string, expires time.Time, err error)
}

// PageAccount is one account as the web page shows it. It has no field
// for a secret: nothing here can carry one.
type PageAccount struct {
	ID     string
	Name   string // "aws" or "team/aws", as typed in /code
	Label  string
	Vault  string // "" for the person's own accounts
	Issuer string
	User   string
	Kind   otp.Kind
	// Code is empty for HOTP accounts (a code advances the counter, so only
	// on request) and for accounts whose vault needs approval.
	Code       string
	ValidUntil time.Time
	Period     time.Duration
	// NeedsApproval: the vault needs an admin's approval for codes.
	NeedsApproval bool
}

// PageError is a refusal the page shows as it is: Message is the same
// sentence chat would give. Err, when set, is the cause, for logs only.
type PageError struct {
	Message string
	// Wait, when not zero, says the person is over a rate limit.
	Wait time.Duration
	// Approval: the account's vault needs an admin's approval.
	Approval bool
	// Failed: the bot failed, not the person's request.
	Failed bool
	Err    error
}

func (e *PageError) Error() string {
	if e.Err != nil {
		return "web request refused: " + e.Err.Error()
	}
	return "web request refused"
}

func (e *PageError) Unwrap() error { return e.Err }

// pageRequest is the page's request as the command language sees it:
// worded in t, the language the page decided on (bots/web asks Language
// first, so the person's /language choice is already in it).
func (h *Handler) pageRequest(person string, t lang.Tag) Request {
	return Request{Person: person, Platform: WebPlatform, Chat: Private, Lang: t.String(), LangForced: true, pr: h.cat.Printer(t)}
}

// pageErr turns a core error into the person's sentence.
func (h *Handler) pageErr(req Request, err error) *PageError {
	var need *core.ApprovalNeededError
	if errors.As(err, &need) {
		return &PageError{Approval: true, Err: err,
			Message: req.printer().T("web.need_approval", "Vault", need.Vault)}
	}
	msg, expected := h.describe(req, err)
	return &PageError{Message: msg, Failed: !expected, Err: err}
}

// limit spends one token of the /code class for the person.
func (h *Handler) limit(req Request) *PageError {
	if ok, wait := h.limiter.take(req.Person, rateCode, h.opts.Clock.Now()); !ok {
		return &PageError{Wait: wait, Message: limited(req, rateCode, wait, false)[0].PlainText()}
	}
	return nil
}

// PageCodes is /code without a name for the web page: one token of the
// /code rate class, core's Codes (which audits every code it returns, as
// /code does), and the accounts Codes leaves out (HOTP, vaults that need
// approval) without a code. A person with no accounts gets an empty list.
// Errors are *PageError, worded in t.
func (h *Handler) PageCodes(ctx context.Context, person string, t lang.Tag) ([]PageAccount, error) {
	ctx = core.WithPlatform(ctx, WebPlatform)
	req := h.pageRequest(person, t)
	if perr := h.limit(req); perr != nil {
		return nil, perr
	}
	codes, err := h.svc.Codes(ctx, person)
	if errors.Is(err, core.ErrNoAccounts) {
		return []PageAccount{}, nil
	}
	if err != nil {
		return nil, h.pageErr(req, err)
	}
	list, err := h.svc.List(ctx, person)
	if err != nil {
		return nil, h.pageErr(req, err)
	}
	byID := make(map[string]int, len(codes))
	for i := range codes {
		byID[codes[i].Account.ID] = i
	}
	out := make([]PageAccount, 0, len(list))
	for _, s := range list {
		a := pageAccount(s)
		if i, ok := byID[s.ID]; ok {
			c := &codes[i]
			a.Code, a.ValidUntil, a.Period = c.Code, c.ValidUntil, c.Period
		} else if s.Kind != otp.HOTP {
			// Codes leaves out only the accounts of vaults that need
			// approval (for members who are not admins).
			a.NeedsApproval = true
		}
		out = append(out, a)
	}
	return out, nil
}

func pageAccount(s core.Summary) PageAccount {
	return PageAccount{ID: s.ID, Name: s.Name(), Label: s.Label, Vault: s.Vault, Issuer: s.Issuer, User: s.User, Kind: s.Kind}
}

// PageCode is "/code #ID" for the web page: the one account's code, which
// for HOTP advances its counter (the page's "new code" button) and in a
// vault with approval needs a grant. Errors are *PageError, worded in t.
func (h *Handler) PageCode(ctx context.Context, person string, t lang.Tag, id string) (PageAccount, error) {
	ctx = core.WithPlatform(ctx, WebPlatform)
	req := h.pageRequest(person, t)
	if perr := h.limit(req); perr != nil {
		return PageAccount{}, perr
	}
	c, err := h.svc.Code(ctx, person, "#"+id)
	if err != nil {
		return PageAccount{}, h.pageErr(req, err)
	}
	a := pageAccount(c.Account)
	a.Code, a.ValidUntil, a.Period = c.Code, c.ValidUntil, c.Period
	return a, nil
}

// PageAskApproval is "/code #ID REASON" for the web page: it files the
// request through the command itself. The first reply is for the person;
// the others are addressed (Reply.To) to the vault's admins and must be
// delivered by the chat adapters. The person's reply is worded in t; the
// admins' in their own languages.
func (h *Handler) PageAskApproval(ctx context.Context, person string, t lang.Tag, id, reason string) []Reply {
	req := h.pageRequest(person, t)
	req.Text = "/code #" + id + " " + reason
	return h.Handle(ctx, req)
}

// cmdApp answers /app with a button that opens the Mini App (Telegram).
func (h *Handler) webOn() bool { return h.opts.Web != nil && h.opts.Web.AppURL() != "" }

func (h *Handler) cmdApp(ctx context.Context, req Request, args string) []Reply {
	if !h.webOn() {
		return []Reply{{Parts: plain(req.printer().T("web.off"))}}
	}
	if !req.MiniApp {
		return []Reply{{Parts: plain(req.printer().T("web.app_telegram_only"))}}
	}
	if !strings.HasPrefix(h.opts.Web.AppURL(), "https://") {
		return []Reply{{Parts: plain(req.printer().T("web.app_not_https"))}}
	}
	return []Reply{{Parts: plain(req.printer().T("web.app")),
		Buttons: [][]Button{{{Label: req.printer().T("web.button_open"), WebApp: h.opts.Web.AppURL()}}}}}
}

// cmdWeb answers /web with a single-use link to the page, which expires
// with the message that carries it.
func (h *Handler) cmdWeb(ctx context.Context, req Request, args string) []Reply {
	if !h.webOn() {
		return []Reply{{Parts: plain(req.printer().T("web.off"))}}
	}
	link, tag, expires, err := h.opts.Web.NewLink(ctx, req.Person)
	if err != nil {
		return h.fail(req, err)
	}
	mins := int(expires.Sub(h.opts.Clock.Now()).Round(time.Minute).Minutes())
	return []Reply{{
		Parts: []Part{{Text: req.printer().T("web.link") + " "}, {Text: link},
			{Text: "\n" + req.printer().N("web.link_note", mins)}},
		Sensitive: true,
		ExpiresAt: expires,
		Tag:       tag,
	}}
}
