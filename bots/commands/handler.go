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
	"unicode"
	"unicode/utf8"

	"github.com/hbollon/go-edlib"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/recovery"
	"github.com/authbot/authbot/core/transfer"
	"github.com/authbot/authbot/lang"
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
	// Web, if set, is the web page: /app and /web open it (web.go).
	Web WebPage
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
	importer *transfer.Importer // shared, so heavy key derivations run one at a time
	qr       *qr.Decoder        // shared, so pictures are decoded one at a time
	cat      *lang.Catalog      // every reply's words (language.go)
	langs    langCache          // people's stored /language choices

	mu      sync.Mutex
	pending map[string]pending       // by person
	batches map[batchKey]*batchState // Google export parts seen
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
	h := &Handler{svc: svc, opts: opts, pending: map[string]pending{}, batches: map[batchKey]*batchState{}, limiter: newLimiter(limits), importer: transfer.NewImporter(), qr: qr.NewDecoder(), cat: lang.MustLoad()}
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
		for _, a := range c.aliases {
			h.cmds[a] = c
		}
	}
	return h
}

// lookup is the table entry for a command word or alias, nil for none.
func (h *Handler) lookup(name string) *command { return h.cmds[name] }

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
		return []Reply{{Parts: plain(fmt.Sprintf(
			"That message is too long for me (%d KB). Send one command at a time; a backup key is at most a few dozen characters.",
			len(text)>>10)), DeleteRequest: p.secret}}
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
	if ok, wait := h.limiter.take(req.Person, class, h.opts.Clock.Now()); !ok && req.Platform != "console" {
		return limited(class, wait, p.secret)
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
		return []Reply{{Parts: plain(adminsOnly)}}
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
	note := "I am deleting your message: it carried a secret."
	if req.Platform == "console" {
		note = "Done."
	}
	return append(replies, Reply{Parts: plain(note), DeleteRequest: true})
}

// unknown answers a command that is not in the table, with the nearest
// one as a suggestion.
func (h *Handler) unknown(ctx context.Context, req Request, p policy) []Reply {
	msg := fmt.Sprintf("I don't know %s%s.", prefixOf(req), p.name)
	sensitive := false
	if c, spelling := h.nearest(p.name); c != nil {
		msg += " Did you mean /" + spelling
		switch {
		case c.args != "" && p.args != "" && !p.secret:
			// "/cod binance": the whole line, with the person's own name
			// when one is near what they typed.
			arg := p.args
			if n := h.nearestName(ctx, req.Person, arg); n != "" {
				arg = n
			}
			msg += " " + arg
			sensitive = true
		case c.args != "":
			msg += " " + c.args
		}
		msg += "?"
	}
	msg += " Send /help to see what I can do."
	if p.secret && req.Platform != "console" {
		msg += "\nYour message looked like it carries a secret, so I am deleting it from this chat."
	}
	return []Reply{{Parts: plain(msg), Sensitive: sensitive, refused: true}}
}

// maxSuggestDistance is how far (in edits: a letter added, dropped,
// changed, or two swapped) a typo may be from a command to be suggested.
const maxSuggestDistance = 2

// nearest is the command (and its spelling) closest to word by optimal
// string alignment distance (Damerau–Levenshtein with adjacent swaps, so
// "unlokc" is one edit from "unlock"), nil when none is close enough.
func (h *Handler) nearest(word string) (*command, string) {
	var best *command
	bestName, bestD := "", maxSuggestDistance+1
	for _, c := range commandTable() {
		for _, n := range append([]string{c.name}, c.aliases...) {
			d := edlib.OSADamerauLevenshteinDistance(word, n)
			if d < bestD && d < len([]rune(word)) {
				best, bestName, bestD = c, n, d
			}
		}
	}
	return best, bestName
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
	msg := "Codes and backup keys are only given in a private chat. Message me directly."
	if p.secret {
		msg = "That message carries a secret, so I am removing it from this chat. " + msg
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
		return []Reply{{Parts: plain("That looks like a backup key. To store it, send /add NAME KEY, for example /add binance JBSW Y3DP EHPK 3PXP."),
			DeleteRequest: true}}
	case text == "":
		return []Reply{{Parts: plain("Send /help to see what I can do.")}}
	}
	if yes, no := yesNo(text); yes || no {
		return []Reply{{Parts: plain("I am not waiting for an answer just now (a question expires after a few minutes). Send the command again.")}}
	}
	if s := h.didYouMean(ctx, req, text); s != "" {
		return []Reply{{Parts: plain(s + " Commands start with " + prefixOf(req) + "."), Sensitive: true}}
	}
	return []Reply{{Parts: plain("Commands start with " + prefixOf(req) + ". Send /help to see them, or /code NAME for a code.")}}
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
		nf   *core.NotFoundError
		amb  *core.AmbiguousError
		tk   *core.NameTakenError
		look *core.ConfusableError
		dup  *core.DuplicateError
		bad  *core.CorruptRecordError
		se   *otp.SecretError
		ue   *otp.URIError
		pe   *otp.ParamsError
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
	case errors.As(err, &look):
		return fmt.Sprintf("That name looks just like %s, which is already there (some letters are look-alikes from another alphabet). Pick a name that looks different.", look.Other), true
	case errors.Is(err, core.ErrCounterExhausted):
		return "That account's counter has reached its largest value, so I cannot make another code without repeating old ones. Set up 2FA for it again at the service and /add the new key.", true
	case errors.Is(err, core.ErrTooManyAccounts):
		return fmt.Sprintf("That is more than %d accounts at once. Split the export and send the parts one by one.", core.MaxImport), true
	case errors.As(err, &dup):
		return fmt.Sprintf("That backup key is already stored as %s, so I did not add it again.", dup.Label), true
	case errors.Is(err, core.ErrBadLabel):
		return "That name is not usable. Names are up to 64 characters, for example binance or work-github.", true
	case errors.As(err, &se):
		return keyProblem(se), true
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
	return Reply{Parts: plain(msg), failed: !expected, refused: true}
}
