package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/recovery"
)

// Options tune the handler. Zero values get sensible defaults.
type Options struct {
	Clock core.Clock
	Log   *slog.Logger
	// CodeDeleteAfter is how long a code message stays in the chat.
	CodeDeleteAfter time.Duration
	// ExportDeleteAfter is how long an exported secret stays in the chat.
	ExportDeleteAfter time.Duration
	// PendingTimeout is how long "/add" alone waits for the key.
	PendingTimeout time.Duration
	// Observer, if set, is told about every handled message (metrics).
	Observer Observer
	// RateLimits are the per-person budgets; nil means DefaultRateLimits.
	RateLimits *RateLimits
	// IsAdmin, if set, says whether a person is one of the bot's admins
	// (config admin: true); /invite and /remove need it. Nil: nobody is.
	IsAdmin func(person string) bool
	// TelegramBot is the bot's Telegram username, for invite deep links.
	TelegramBot string
	// TelegramBotName, if set and TelegramBot is empty, returns the
	// username: the Telegram adapter only learns it from getMe once it
	// runs, after the handler was built. "" while unknown.
	TelegramBotName func() string
	// IsConfigUser, if set, says whether a name is a config file user:
	// /remove refuses them (their data is the operator's to drop, and a
	// config user with a linked identity has a runtime record too).
	IsConfigUser func(name string) bool
	// IsPerson, if set, says whether a name is one of the bot's people;
	// /vault add refuses others. Nil accepts any name.
	IsPerson func(name string) bool
}

// Observer learns what was handled: the command word (a known command,
// "text", "file" or "unknown" — never what the person typed), how long it
// took, and whether it failed on the bot's side.
type Observer interface {
	Observe(platform, command string, took time.Duration, failed bool)
}

// MaxMessageBytes bounds what the handler reads of one message: no
// backup key, link or command is anywhere near this long.
const MaxMessageBytes = 16 << 10

// Handler is the command language. It is safe for concurrent use.
type Handler struct {
	svc  *core.Service
	opts Options
	cmds map[string]*command

	recovery *recovery.Base // nil if the embedded file failed to load
	limiter  *limiter

	mu      sync.Mutex
	pending map[string]pending     // by person
	batches map[string]*batchState // Google export parts seen, by person|batch
}

// pending is a question the bot asked and waits to have answered by the
// person's next message.
type pending struct {
	kind     string // "add": the next message is a key or link
	label    string // the account name given with /add, if any
	data     []byte // an encrypted file waiting for its password
	attempts int    // wrong passwords so far
	expires  time.Time
}

// New returns a handler over svc.
func New(svc *core.Service, opts Options) *Handler {
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.CodeDeleteAfter == 0 {
		opts.CodeDeleteAfter = 2 * time.Minute
	}
	if opts.ExportDeleteAfter == 0 {
		opts.ExportDeleteAfter = time.Minute
	}
	if opts.PendingTimeout == 0 {
		opts.PendingTimeout = 5 * time.Minute
	}
	limits := DefaultRateLimits
	if opts.RateLimits != nil {
		limits = *opts.RateLimits
	}
	h := &Handler{svc: svc, opts: opts, pending: map[string]pending{}, batches: map[string]*batchState{}, limiter: newLimiter(limits)}
	if base, err := recovery.Load(); err != nil {
		// A test keeps the embedded file valid; should it still fail, the
		// rest of the bot works and /recover says so.
		opts.Log.Error("recovery guidance unavailable", "err", err)
	} else {
		h.recovery = base
	}
	h.cmds = map[string]*command{}
	for _, c := range commandTable() {
		h.cmds[c.name] = c
	}
	for alias, name := range aliases {
		h.cmds[alias] = h.cmds[name]
	}
	return h
}

// Handle answers one message. It never returns an empty slice, and never
// puts a raw error into a reply.
func (h *Handler) Handle(ctx context.Context, req Request) []Reply {
	start := time.Now() // wall time for metrics, whatever the clock says
	ctx = core.WithPlatform(ctx, req.Platform)
	// "!code" on Matrix is "/code" from here on: one set of rules.
	req.Text = Canonical(req.Prefix, req.Text)
	replies := Localize(req.Prefix, h.handle(ctx, req))
	took := time.Since(start)
	name := commandName(req.Text)
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
	secretish := looksSecret(text) || req.Attachment != nil
	if len(text) > MaxMessageBytes {
		return []Reply{{Parts: plain(fmt.Sprintf(
			"That message is too long for me (%d KB). Send one command at a time; a backup key is at most a few dozen characters.",
			len(text)>>10)), DeleteRequest: secretish}}
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "")
	}
	text = strings.TrimSpace(text)

	if req.Chat != Private {
		return h.group(req, text, secretish)
	}
	// Rate limits are middleware: one check for every command, file and
	// pasted text, before anything is opened.
	class := "write"
	if req.Attachment == nil {
		name, _ := splitCommand(text)
		class = rateClass(commandName(text))
		if name == "" && h.hasPending(req.Person) {
			class = "secret" // answers to a question: export or import passwords, keys, codes
		}
	}
	if ok, wait := h.limiter.take(req.Person, class, h.opts.Clock.Now()); !ok {
		return limited(class, wait, secretish)
	}
	if req.Attachment != nil {
		h.clearPending(req.Person)
		return h.attachment(ctx, req)
	}

	name, args := splitCommand(text)
	if name == "" {
		if p, ok := h.takePending(req.Person); ok {
			switch p.kind {
			case "add":
				return h.addFromText(ctx, req, p.label, text)
			case "import-password":
				return h.importPassword(ctx, req, p, text)
			case "export-password":
				return h.exportAll(ctx, req, text)
			case "recovery-codes":
				return h.storeRecoveryCodes(ctx, req, p.label, text)
			}
		}
		return h.freeText(ctx, req, text)
	}
	if name != "cancel" {
		h.clearPending(req.Person)
	}
	c, ok := h.cmds[name]
	if !ok {
		return []Reply{{Parts: plain(fmt.Sprintf("I don't know %s%s. Send /help to see what I can do.", prefixOf(req), name)), DeleteRequest: secretish}}
	}
	return c.run(h, ctx, req, args)
}

// group answers in a chat with other people in it: nothing secret, not
// even which accounts exist.
func (h *Handler) group(req Request, text string, secretish bool) []Reply {
	name, _ := splitCommand(text)
	if name == "" && !secretish {
		return nil
	}
	msg := "Codes and backup keys are only given in a private chat. Message me directly."
	if secretish {
		msg = "That message carries a secret, so I am removing it from this chat. " + msg
	}
	return []Reply{{Parts: plain(msg), DeleteRequest: secretish}}
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
	case looksSecret(text):
		return []Reply{{Parts: plain("That looks like a backup key. To store it, send /add NAME KEY, for example /add binance JBSW Y3DP EHPK 3PXP."),
			DeleteRequest: true}}
	case text == "":
		return []Reply{{Parts: plain("Send /help to see what I can do.")}}
	}
	prefix := prefixOf(req)
	if word, ok := strings.CutPrefix(text, prefix); ok && prefix != DefaultPrefix && word != "" && isWordByte(word[0]) {
		// "!foo" on Matrix: an unknown command in the platform's own form.
		return []Reply{{Parts: plain(fmt.Sprintf("I don't know %s%s. Send /help to see what I can do.", prefix, leadingWord(word)))}}
	}
	return []Reply{{Parts: plain("Commands start with " + prefix + ". Send /help to see them, or /code NAME for a code.")}}
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

// commandName is the command word for logs: a known command or "other",
// never what the person typed.
func commandName(text string) string {
	name, _ := splitCommand(strings.TrimSpace(text))
	for _, c := range commandTable() {
		if c.name == name {
			return name
		}
	}
	if name == "" {
		return "text"
	}
	return "unknown"
}

// looksSecret is true for text that may carry a secret: a link or a long
// run of base32. Such messages are deleted even when they are mistyped.
func looksSecret(text string) bool {
	lower := strings.ToLower(text)
	if strings.Contains(lower, "otpauth://") || strings.Contains(lower, "otpauth-migration://") {
		return true
	}
	name, args := splitCommand(strings.TrimSpace(text))
	if name == "add" || name == "recovery-codes" || name == "check" || name == "unlock" {
		return args != ""
	}
	if name == "lock" {
		return args != "" && args != "off"
	}
	if name != "" {
		return false
	}
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

// explain turns an error from core into a sentence for the person. An
// unexpected error is logged in full and the person gets a generic line.
func (h *Handler) explain(err error) string {
	msg, _ := h.describe(err)
	return msg
}

// describe is explain that also says whether err was one a person causes
// (expected) rather than a failure on the bot's side.
func (h *Handler) describe(err error) (string, bool) {
	var (
		nf  *core.NotFoundError
		amb *core.AmbiguousError
		tk  *core.NameTakenError
		dup *core.DuplicateError
		bad *core.CorruptRecordError
		se  *otp.SecretError
		ue  *otp.URIError
		pe  *otp.ParamsError
	)
	if msg, ok := describeTeam(err); ok {
		return msg, true
	}
	if msg, ok := h.describeLock(err); ok {
		return msg, true
	}
	if msg, ok := describeApproval(err); ok {
		return msg, true
	}
	if msg, ok := describePeople(err); ok {
		return msg, true
	}
	switch {
	case errors.Is(err, core.ErrNoAccounts):
		return "You have no accounts yet. Add one with /add NAME KEY.", true
	case errors.As(err, &nf):
		return fmt.Sprintf("No account matches %q. Send /list to see your accounts.", nf.Query), true
	case errors.As(err, &amb):
		return fmt.Sprintf("%d accounts match. Be more specific: %s.", len(amb.Matches), labels(amb.Matches)), true
	case errors.As(err, &tk):
		return fmt.Sprintf("You already have an account called %s. Pick another name, or /rename the old one.", tk.Label), true
	case errors.As(err, &dup):
		return fmt.Sprintf("That backup key is already stored as %s, so I did not add it again.", dup.Label), true
	case errors.Is(err, core.ErrBadLabel):
		return "That name is not usable. Names are up to 64 characters, for example binance or work-github.", true
	case errors.As(err, &se):
		return "That backup key is not right: " + se.Error() + ". Check it and send it again; nothing was stored.", true
	case errors.As(err, &ue):
		return "That link is not right: " + ue.Error() + ". Nothing was stored.", true
	case errors.As(err, &pe):
		return "Those settings are not right: " + pe.Error() + ". Nothing was stored.", true
	case errors.As(err, &bad):
		h.opts.Log.Error("record cannot be opened", "err", err)
		return "I could not open that stored account: its record is damaged or was sealed with another key. Nothing was changed; please tell the person who runs this bot.", false
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EDQUOT):
		h.opts.Log.Error("storage refuses writes", "err", err)
		return "The bot's storage is full or read-only, so nothing was changed. What you stored before is safe. Please tell the person who runs this bot.", false
	case errors.Is(err, core.ErrCorrupt):
		h.opts.Log.Error("database corrupt", "err", err)
		return "The database is damaged, so I changed nothing. Please tell the person who runs this bot.", false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "I am shutting down or too busy; please send that again in a moment.", false
	}
	h.opts.Log.Error("command failed", "err", err)
	return "Something went wrong on my side and nothing was changed. Please try again; if it keeps happening, tell the person who runs this bot.", false
}

func labels(s []core.Summary) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.Name()
	}
	return strings.Join(out, ", ")
}

func plain(s string) []Part { return []Part{{Text: s}} }

func (h *Handler) fail(err error) []Reply {
	return []Reply{h.failReply(err)}
}

// failReply explains err; an unexpected error marks the reply failed for
// the Observer.
func (h *Handler) failReply(err error) Reply {
	msg, expected := h.describe(err)
	return Reply{Parts: plain(msg), failed: !expected}
}
