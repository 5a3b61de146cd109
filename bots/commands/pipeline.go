package commands

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authbot/authbot/core"
)

// The pipeline every message goes through: the command table's policy,
// the group rule, the rate limit, the admin rule and pending questions,
// then the command itself.

// Handle answers one message. It never returns an empty slice, and never
// puts a raw error into a reply.
func (h *Handler) Handle(ctx context.Context, req Request) []Reply {
	start := time.Now() // wall time for metrics, whatever the clock says
	ctx = core.WithPlatform(ctx, req.Platform)
	// "!code" on Matrix is "/code" from here on: one set of rules.
	req.Text = h.canonical(req)
	req.pr = h.cat.Printer(h.Language(ctx, req))
	replies := Localize(req.Prefix, h.handle(ctx, req))
	took := time.Since(start)
	name := h.commandName(req.Text)
	if req.Attachment != nil {
		name = "file"
	}
	failed := false
	for _, r := range replies {
		failed = failed || r.failed
	}
	h.opts.Log.Debug("handled", "platform", req.Platform, "command", name, "took", took, "failed", failed)
	if h.opts.Observer != nil {
		h.opts.Observer.Observe(req.Platform, name, took, failed)
	}
	return replies
}

func (h *Handler) handle(ctx context.Context, req Request) []Reply {
	text := req.Text
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "")
	}
	text = strings.TrimSpace(text)
	p := h.policyOf(text)
	if req.Attachment != nil {
		p.secret = true // a file or photo may hold a QR code or an export
	}
	if len(text) > MaxMessageBytes {
		return []Reply{{Parts: plain(req.printer().T("msg.too_long", "KB", len(text)>>10)), DeleteRequest: p.secret}}
	}
	replies := h.apply(ctx, req, text, p)
	if p.secret {
		replies = deleteRequested(replies, req)
	}
	return replies
}

// policy is what the command table says about one message, with aliases
// already resolved.
type policy struct {
	cmd    *command // nil: not a command, or an unknown one
	name   string   // the command word as typed, lowercased; "" for text
	args   string
	secret bool // the message carries (or may carry) a secret: delete it
}

// policyOf reads text against the command table. An unknown command is
// secret when its arguments look like a key, a link, a passphrase or a
// recovery code; text that is not a command when it looks like a key or
// link. A link to an authenticator is a secret whatever command it follows.
func (h *Handler) policyOf(text string) policy {
	name, args := splitCommand(text)
	p := policy{name: name, args: args, cmd: h.lookup(name)}
	switch {
	case p.cmd != nil:
		p.secret = p.cmd.secret != nil && p.cmd.secret(args)
	case name != "":
		p.secret = looksLikeSecret(args)
	default:
		p.secret = looksLikeKey(text)
	}
	p.secret = p.secret || hasOTPLink(text)
	return p
}

// apply runs the rules in order (group, rate limit, admin) and then the
// command.
func (h *Handler) apply(ctx context.Context, req Request, text string, p policy) []Reply {
	if req.Chat != Private {
		return h.group(ctx, req, p)
	}
	// Rate limits are middleware: one check for every command, file and
	// pasted text, before anything is opened.
	class := rateWrite // files and pasted text
	switch {
	case req.Attachment != nil:
	case p.cmd != nil:
		class = p.cmd.rate
	case p.name != "":
		class = rateOther // an unknown command
	case h.hasPending(req.Person):
		class = rateSecret // answers to a question: export or import passwords, keys, codes
	}
	// The console's local person is not limited: whoever runs it holds
	// the data dir and its master key anyway, and scripts must not be
	// refused halfway.
	if ok, wait := h.limiter.take(req.Person, class, h.opts.Clock.Now()); !ok && !req.Local {
		return limited(req, class, wait, p.secret)
	}
	if req.Attachment != nil {
		return h.attachment(ctx, req) // takes (and so clears) any pending question
	}
	if p.name == "" {
		if q, ok := h.takePending(req.Person); ok {
			switch q.kind {
			case "add":
				return h.addFromText(ctx, req, q.label, text)
			case "import-password":
				return h.importPassword(ctx, req, q, text)
			case "export-password":
				return h.exportAll(ctx, req, text)
			case "recovery-codes":
				return h.storeRecoveryCodes(ctx, req, q.label, text)
			case "confirm-add", "confirm-del", "confirm-export":
				return h.answer(ctx, req, q, text)
			}
		}
		return h.freeText(ctx, req, text)
	}
	if p.cmd == nil || p.cmd.name != "cancel" {
		h.clearPending(req.Person)
	}
	if p.cmd == nil {
		return h.unknown(ctx, req, p)
	}
	if p.cmd.admin && !h.isAdmin(req.Person) {
		return []Reply{{Parts: plain(req.printer().T("people.admins_only"))}}
	}
	return p.cmd.run(h, ctx, req, p.args)
}

// deleteRequested makes sure a message the table calls secret is deleted,
// whatever the command answered: the first reply to the sender asks for it.
func deleteRequested(replies []Reply, req Request) []Reply {
	for i := range replies {
		if replies[i].To == "" {
			replies[i].DeleteRequest = true
			return replies
		}
	}
	note := req.printer().T("msg.deleting_secret")
	if !req.DeletesMessages {
		note = req.printer().T("msg.done")
	}
	return append(replies, Reply{Parts: plain(note), DeleteRequest: true})
}

// deletionNote tells the person what happens to the message that carried
// a secret, on platforms where the bot deletes it.
func deletionNote(req Request) string {
	if !req.DeletesMessages {
		return ""
	}
	return "\n" + req.printer().T("msg.deleting_key")
}

// unknown answers a command that is not in the table, with the nearest
// one as a suggestion.
func (h *Handler) unknown(ctx context.Context, req Request, p policy) []Reply {
	pr := req.printer()
	msg := pr.T("msg.unknown_command", "Command", prefixOf(req)+p.name)
	sensitive := false
	if c, spelling := h.nearest(p.name); c != nil {
		suggestion := "/" + spelling
		switch {
		case c.args != "" && p.args != "" && !p.secret:
			// "/cod binance": the whole line, with the person's own name
			// when one is near what they typed.
			arg := p.args
			if n := h.nearestName(ctx, req.Person, arg); n != "" {
				arg = n
			}
			suggestion += " " + arg
			sensitive = true
		case c.args != "":
			suggestion += " " + c.args
		}
		msg += " " + pr.T("msg.did_you_mean", "Command", suggestion)
	}
	msg += " " + pr.T("msg.send_help")
	if p.secret && req.DeletesMessages {
		msg += "\n" + pr.T("msg.unknown_secret")
	}
	return []Reply{{Parts: plain(msg), Sensitive: sensitive, refused: true}}
}

// group answers in a chat with other people in it: nothing secret, not
// even which accounts exist. Commands the table marks for groups run;
// anything else gets "ask me in a private chat", and a message carrying a
// secret is deleted.
func (h *Handler) group(ctx context.Context, req Request, p policy) []Reply {
	if p.name == "" && !p.secret {
		return nil // chatter among the group's people
	}
	if p.cmd != nil && p.cmd.group && !p.secret {
		var out []Reply
		for _, r := range p.cmd.run(h, ctx, req, p.args) {
			if !r.Sensitive && r.To == "" {
				out = append(out, r)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	msg := req.printer().T("msg.private_only")
	if p.secret {
		msg = req.printer().T("msg.group_secret") + " " + msg
	}
	return []Reply{{Parts: plain(msg), DeleteRequest: p.secret}}
}

// freeText handles a message that is not a command: a pasted link, or
// something that looks like a bare key.
func (h *Handler) freeText(ctx context.Context, req Request, text string) []Reply {
	lower := strings.ToLower(text)
	switch {
	case strings.HasPrefix(lower, "otpauth://"):
		return h.addFromText(ctx, req, "", text)
	case strings.HasPrefix(lower, "otpauth-migration://"):
		return h.importText(ctx, req, text)
	case looksLikeKey(text):
		return []Reply{{Parts: plain(req.printer().T("msg.bare_key")),
			DeleteRequest: true}}
	case text == "":
		return []Reply{{Parts: plain(req.printer().T("msg.send_help"))}}
	}
	if yes, no := yesNo(text); yes || no {
		return []Reply{{Parts: plain(req.printer().T("msg.not_waiting"))}}
	}
	if s := h.didYouMean(ctx, req, text); s != "" {
		return []Reply{{Parts: plain(s + " " + req.printer().T("msg.commands_start", "Prefix", prefixOf(req))), Sensitive: true}}
	}
	return []Reply{{Parts: plain(req.printer().T("msg.commands_start_help", "Prefix", prefixOf(req)))}}
}

// pending is a question the bot asked and waits to have answered by the
// person's next message.
type pending struct {
	kind     string   // "add": the next message is a key or link
	label    string   // the account name given with /add, if any
	files    [][]byte // import-password: the files waiting for their password; import-files: files waiting for the rest of their export
	attempts int      // wrong passwords so far
	secret   []byte   // confirm-add: the key read, waiting for yes
	id       string   // confirm-del, confirm-export: the account asked about
	expires  time.Time
}

func (h *Handler) setPending(person string, p pending) {
	p.expires = h.opts.Clock.Now().Add(h.opts.PendingTimeout)
	h.mu.Lock()
	h.pending[person] = p
	h.mu.Unlock()
}

func (h *Handler) takePending(person string) (pending, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.pending[person]
	delete(h.pending, person)
	if ok && h.opts.Clock.Now().After(p.expires) {
		return pending{}, false
	}
	// Drop other people's stale questions so the map cannot grow without bound.
	for k, q := range h.pending {
		if h.opts.Clock.Now().After(q.expires) {
			delete(h.pending, k)
		}
	}
	return p, ok
}

func (h *Handler) hasPending(person string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.pending[person]
	return ok
}

func (h *Handler) clearPending(person string) {
	h.mu.Lock()
	delete(h.pending, person)
	h.mu.Unlock()
}

func (h *Handler) cmdCancel(ctx context.Context, req Request, args string) []Reply {
	if _, ok := h.takePending(req.Person); ok {
		return []Reply{{Parts: plain(req.printer().T("msg.cancelled"))}}
	}
	return []Reply{{Parts: plain(req.printer().T("msg.nothing_to_cancel"))}}
}

// splitCommand splits "/code@authbot binance" into "code" and "binance".
// Text that is not a command gives "".
func splitCommand(text string) (name, args string) {
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	head, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		head, rest = head[:i], head[i+1:]+" "+rest
	}
	head = strings.TrimPrefix(head, "/")
	head, _, _ = strings.Cut(head, "@") // /code@authbot in Telegram groups
	return strings.ToLower(head), strings.TrimSpace(rest)
}

// commandName is the command word for logs and metrics: a known
// command's table name (whatever alias was typed), "text" or "unknown",
// never what the person typed.
func (h *Handler) commandName(text string) string {
	name, _ := splitCommand(strings.TrimSpace(text))
	if c := h.lookup(name); c != nil {
		return c.name
	}
	if name == "" {
		return "text"
	}
	return "unknown"
}

// hasOTPLink is true for text holding an authenticator link: its secret
// is in it, whatever command (if any) came before.
func hasOTPLink(text string) bool {
	lower := strings.ToLower(text)
	return strings.Contains(lower, "otpauth://") || strings.Contains(lower, "otpauth-migration://")
}

// looksLikeKey is true for text with a long run of base32 (a backup key,
// perhaps written in groups).
func looksLikeKey(text string) bool {
	run := 0
	for _, r := range strings.ToUpper(text) {
		switch {
		case r >= 'A' && r <= 'Z', r >= '2' && r <= '7':
			run++
			if run >= 16 {
				return true
			}
		case r == ' ' || r == '-' || r == '=':
		default:
			run = 0
		}
	}
	return false
}

// looksLikeSecret judges the arguments of a command that is not in the
// table (a typo: "/ad binance KEY", "/unlokc PASSPHRASE"). They may carry
// a secret when they hold a link or a key, when there is more than one
// word (NAME KEY, a passphrase of words, a list of recovery codes), or
// when the one word is not a plain name: six or more characters with a
// digit, a mix of cases or a symbol (a code, a recovery code, a token, a
// passphrase). A plain word such as an account name does not: deleting
// "/cod binance" would only puzzle.
func looksLikeSecret(args string) bool {
	if args == "" {
		return false
	}
	if strings.Contains(args, "://") || looksLikeKey(args) {
		return true
	}
	fields := strings.Fields(args)
	if len(fields) > 1 {
		return true
	}
	w := fields[0]
	if len([]rune(w)) < 6 {
		return false
	}
	var digit, upper, lower, symbol bool
	for i, r := range w {
		switch {
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsUpper(r):
			upper = upper || i > 0 // "Binance" is a name, "hUnter" is not
		case unicode.IsLower(r):
			lower = true
		case r == '-' || r == '_' || r == '.' || r == '/':
			// in account names: work-github, team/aws
		default:
			symbol = true
		}
	}
	return digit || (upper && lower) || symbol
}
