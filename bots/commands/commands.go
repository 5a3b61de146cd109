package commands

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
)

// command is one entry of the command table, and the only place a
// command's policy lives: the secret check, the rate limiter, the group
// rule, the admin rule, /help and the platforms' menus all read it (see
// policy in handler.go). Aliases resolve to their entry before any rule
// runs, so every spelling gets the same treatment.
type command struct {
	name string
	// aliases are other spellings. Telegram allows only a-z, 0-9 and _ in
	// command names, so a hyphenated name needs an underscore alias: the
	// menu shows that one (it is what a tap sends).
	aliases []string
	args    string // how the arguments are written, for /help
	help    string // one line for /help and the platforms' command menus
	// menu puts the command in the platforms' command menus.
	menu bool
	// secret says whether these arguments carry a secret (a backup key, a
	// passphrase, a code, a recovery code, an invite token): the message is
	// then deleted wherever it was sent, even when the command fails or is
	// refused. Nil: its arguments never do.
	secret func(args string) bool
	// example is a typical argument, a secret one where the command takes
	// secrets; the table tests send it on every platform.
	example string
	// rate is the rate-limit class (ratelimit.go).
	rate rateClass
	// admin: only the bot's admins (config admin: true) may run it.
	admin bool
	// group: it is answered in group chats too. Such a command must never
	// reply with anything Sensitive; every other command gets "ask me in a
	// private chat" there.
	group bool
	// stranger: an identity the bot does not know yet may send it (with an
	// argument) to become a person: HandleStranger.
	stranger bool
	// topic is the /help page that lists it: "" the everyday page, "team"
	// (family and team), "more"; "hidden" for none.
	topic string
	// only, when set, is the one platform where the command works.
	only string
	run  func(h *Handler, ctx context.Context, req Request, args string) []Reply
}

// anyArgs: every argument is secret (a key, a passphrase, codes).
func anyArgs(args string) bool { return args != "" }

// lockArgs: /lock PASSPHRASE carries one; /lock and /lock off do not.
func lockArgs(args string) bool { return args != "" && !strings.EqualFold(args, "off") }

// recoverArgs: /recover NAME used CODE carries a recovery code, and so
// does anything that looks like a key or code after the name (a typo in
// the word "used" must not leave the code in the chat).
func recoverArgs(args string) bool {
	_, rest, ok := strings.Cut(args, " ")
	return ok && (strings.Contains(" "+strings.ToLower(args)+" ", " used ") || looksLikeSecret(rest))
}

// MenuItem is one line of a platform's command menu (Telegram setMyCommands).
type MenuItem struct {
	Command     string
	Description string
}

// Menu returns the commands a platform should list, in order, each under
// the spelling a platform menu can carry (a-z, 0-9 and _).
func Menu() []MenuItem {
	var out []MenuItem
	for _, c := range commandTable() {
		if c.menu {
			out = append(out, MenuItem{Command: c.menuName(), Description: c.help})
		}
	}
	return out
}

// menuName is the first spelling of c that a Telegram menu accepts.
func (c *command) menuName() string {
	for _, n := range append([]string{c.name}, c.aliases...) {
		if menuWord(n) {
			return n
		}
	}
	return c.name // a table test keeps this from happening
}

func menuWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Command is a read-only view of one table entry, for adapters and tests.
type Command struct {
	Name     string
	Aliases  []string
	Args     string
	Help     string
	Menu     bool
	MenuName string
	// Secret reports whether these arguments would carry a secret.
	Secret func(args string) bool
	// Example is a typical argument (secret where the command takes one).
	Example   string
	TakesArgs bool // Args is not empty
	RateClass string
	Admin     bool
	Group     bool
	Stranger  bool
}

// Commands lists the command table.
func Commands() []Command {
	var out []Command
	for _, c := range commandTable() {
		secret := c.secret
		if secret == nil {
			secret = func(string) bool { return false }
		}
		out = append(out, Command{Name: c.name, Aliases: append([]string(nil), c.aliases...), Args: c.args, Help: c.help,
			Menu: c.menu, MenuName: c.menuName(), Secret: secret, Example: c.example, TakesArgs: c.args != "", RateClass: string(c.rate),
			Admin: c.admin, Group: c.group, Stranger: c.stranger})
	}
	return out
}

func commandTable() []*command {
	return []*command{
		{name: "code", args: "[NAME]", help: "Get the current code (all codes without a name)", menu: true, rate: rateCode, run: (*Handler).cmdCode},
		{name: "list", help: "List your accounts", menu: true, rate: rateOther, run: (*Handler).cmdList},
		{name: "add", example: "binance JBSWY3DPEHPK3PXP", args: "NAME KEY | LINK", help: "Store an account from its backup key or otpauth:// link", menu: true, secret: anyArgs, rate: rateWrite, run: (*Handler).cmdAdd},
		{name: "rename", args: "OLD NEW", help: "Rename an account", menu: true, rate: rateWrite, topic: "more", run: (*Handler).cmdRename},
		{name: "del", aliases: []string{"delete"}, args: "NAME", help: "Delete an account (asks first)", menu: true, rate: rateWrite, topic: "more", run: (*Handler).cmdDel},
		{name: "export", args: "[NAME]", help: "Move an account (or all) to another app: link, QR, encrypted file", menu: true, rate: rateSecret, run: (*Handler).cmdExport},
		{name: "recover", example: "binance used aaaa-1111", args: "[NAME] [used CODE]", help: "What to do when a phone is lost; a checklist without a name", menu: true, secret: recoverArgs, rate: rateSecret, run: (*Handler).cmdRecover},
		{name: "recovery-codes", example: "binance aaaa-1111 bbbb-2222", aliases: []string{"recovery_codes"}, args: "NAME CODES…", help: "Store an account's one-time recovery codes", menu: true, secret: anyArgs, rate: rateSecret, topic: "more", run: (*Handler).cmdRecoveryCodes},
		{name: "check", example: "binance 123456", args: "NAME CODE", help: "Check the stored key against the code your phone shows", menu: true, secret: anyArgs, rate: rateSecret, run: (*Handler).cmdCheck},
		{name: "vault", args: "new|add|remove|list …", help: "Share accounts with your family or team", menu: true, rate: rateWrite, topic: "team", run: (*Handler).cmdVault},
		{name: "audit", args: "[VAULT]", help: "Who got which code when: your own, or a vault you run", rate: rateSecret, topic: "team", run: (*Handler).cmdAudit},
		{name: "lock", example: "correct horse battery staple", args: "[PASSPHRASE | off]", help: "Lock your accounts with a passphrase only you know", secret: lockArgs, rate: rateLock, topic: "more", run: (*Handler).cmdLock},
		{name: "unlock", example: "correct horse battery staple", args: "PASSPHRASE", help: "Open your locked accounts for a while", secret: anyArgs, rate: rateLock, topic: "more", run: (*Handler).cmdUnlock},
		{name: "approve", args: "ID [once|MINUTES]", help: "Approve a request for a code", rate: rateOther, topic: "team", run: (*Handler).cmdApprove},
		{name: "deny", args: "ID", help: "Refuse a request for a code", rate: rateOther, topic: "team", run: (*Handler).cmdDeny},
		{name: "invite", args: "NAME", help: "Invite someone to this bot (admins)", admin: true, rate: rateWrite, topic: "team", run: (*Handler).cmdInvite},
		{name: "people", help: "Who was added to this bot", rate: rateOther, topic: "team", run: (*Handler).cmdPeople},
		{name: "remove", args: "NAME", help: "Remove a person and everything only they could read (admins)", admin: true, rate: rateWrite, topic: "team", run: (*Handler).cmdRemove},
		// /app opens the Mini App; /web sends a single-use link to the
		// page, a credential until used or expired.
		{name: "app", help: "Open your live codes as an app in Telegram", menu: true, rate: rateOther, topic: "more", only: "telegram", run: (*Handler).cmdApp},
		{name: "web", help: "Get a one-time link to your live codes in a browser", rate: rateSecret, topic: "more", run: (*Handler).cmdWeb},
		// The link code and the invite token let another chat account in
		// as this person: secrets until used.
		{name: "link", example: "ABCD-1234", args: "[CODE]", help: "Use this bot from your other chat account too", secret: anyArgs, stranger: true, rate: rateOther, topic: "team", run: (*Handler).cmdLink},
		{name: "join", example: "tok3n-abcdef", args: "TOKEN", help: "Join with an invite (on Matrix)", secret: anyArgs, stranger: true, rate: rateOther, topic: "hidden", run: (*Handler).cmdJoin},
		{name: "language", args: "[CODE]", help: "Show or choose the language I answer in", menu: true, rate: rateOther, topic: "more", run: (*Handler).cmdLanguage},
		{name: "cancel", help: "Stop what I am waiting for", rate: rateOther, topic: "more", run: (*Handler).cmdCancel},
		{name: "help", help: "Show what I can do", menu: true, rate: rateOther, topic: "more", run: (*Handler).cmdHelp},
		{name: "start", example: "tok3n-abcdef", args: "[TOKEN]", help: "Say hello", secret: anyArgs, stranger: true, rate: rateOther, topic: "hidden", run: (*Handler).cmdStart},
	}
}

func (h *Handler) cmdStart(ctx context.Context, req Request, args string) []Reply {
	intro := "Hello! I keep the backup keys of your two-factor accounts and give you the current code whenever you ask.\n\n"
	return []Reply{{Parts: append(plain(intro), h.helpParts()...)}}
}

func (h *Handler) cmdHelp(ctx context.Context, req Request, args string) []Reply {
	return []Reply{{Parts: h.helpFor(req, strings.ToLower(strings.TrimSpace(args)))}}
}

// helpParts is the everyday help page, for welcomes.
func (h *Handler) helpParts() []Part { return h.helpFor(Request{}, "") }

// helpFor is one /help page, read from the command table: the everyday
// commands, "team" (family and team) or "more"; admin commands only for
// admins, and only what works on the asking platform.
func (h *Handler) helpFor(req Request, topic string) []Part {
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
		if c.topic != topic || c.admin && !h.isAdmin(req.Person) || c.only != "" && c.only != req.Platform {
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
		if req.Platform == "console" {
			b.WriteString("\nYou can also paste an otpauth:// link; export files from other apps go in with: authbot import FILE.\n")
		} else {
			b.WriteString("\nYou can also paste an otpauth:// link, or send a screenshot of a QR code or an export file from another app.\n")
		}
		b.WriteString("Example: /add binance JBSW Y3DP EHPK 3PXP, then /code binance.\n")
		b.WriteString("More: /help team (family and team), /help more (rename, delete, lock…).")
	}
	return plain(strings.TrimRight(b.String(), "\n"))
}

func (h *Handler) cmdCancel(ctx context.Context, req Request, args string) []Reply {
	if _, ok := h.takePending(req.Person); ok {
		return []Reply{{Parts: plain("OK, cancelled.")}}
	}
	return []Reply{{Parts: plain("There was nothing to cancel.")}}
}

// cmdCode: /code NAME gives one code; /code alone gives all codes, or a
// keyboard to pick from on platforms with buttons.
func (h *Handler) cmdCode(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		if req.Platform == "telegram" && !req.Callback {
			return h.pickAccount(ctx, req, "Which account?")
		}
		codes, err := h.svc.Codes(ctx, req.Person)
		if err != nil {
			return h.fail(err)
		}
		return []Reply{h.codesReply(codes)}
	}
	query, reason := args, ""
	c, err := h.svc.Code(ctx, req.Person, query)
	var nf *core.NotFoundError
	if errors.As(err, &nf) && strings.Contains(args, " ") {
		// "/code team/aws REASON": names never hold spaces, so the rest
		// is the reason for an approval request.
		query, reason, _ = strings.Cut(args, " ")
		c, err = h.svc.Code(ctx, req.Person, query)
	}
	var need *core.ApprovalNeededError
	if errors.As(err, &need) {
		return h.codeWithApproval(ctx, req, query, strings.TrimSpace(reason), need)
	}
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{h.choose(fmt.Sprintf("%d accounts match %q. Which one?", len(amb.Matches), args), amb.Matches, "/code")}
	}
	if errors.As(err, &nf) {
		if n := h.nearestName(ctx, req.Person, query); n != "" {
			return []Reply{{Parts: plain(fmt.Sprintf("No account matches %q. Did you mean /code %s?", query, n)), Sensitive: true}}
		}
	}
	if err != nil {
		return h.fail(err)
	}
	return []Reply{h.codeReply(c)}
}

func asAmbiguous(err error) (*core.AmbiguousError, bool) {
	amb, ok := err.(*core.AmbiguousError)
	return amb, ok
}

// pickAccount answers with one button per account.
func (h *Handler) pickAccount(ctx context.Context, req Request, question string) []Reply {
	list, err := h.svc.List(ctx, req.Person)
	if err != nil {
		return h.fail(err)
	}
	if len(list) == 0 {
		return h.fail(core.ErrNoAccounts)
	}
	return []Reply{h.choose(question, list, "/code")}
}

// choose lists accounts as buttons whose data runs cmd on that account.
// Buttons carry the account id, not its name: ids always fit Telegram's
// 64-byte callback limit and never match the wrong account.
func (h *Handler) choose(question string, accounts []core.Summary, cmd string) Reply {
	r := Reply{Parts: plain(question), Sensitive: true}
	var row []Button
	for _, a := range accounts {
		row = append(row, Button{Label: a.Name(), Data: cmd + " #" + a.ID, Typed: cmd + " " + a.Name()})
		if len(row) == 2 {
			r.Buttons = append(r.Buttons, row)
			row = nil
		}
	}
	if row != nil {
		r.Buttons = append(r.Buttons, row)
	}
	return r
}

func (h *Handler) secondsLeft(c core.Code) int {
	return int(math.Ceil(c.ValidUntil.Sub(h.opts.Clock.Now()).Seconds()))
}

// nextCodeUnder: a code with fewer seconds left than this comes with the
// next one, since typing it takes a few seconds.
const nextCodeUnder = 5

func (h *Handler) codeReply(c core.Code) Reply {
	now := h.opts.Clock.Now()
	r := Reply{Sensitive: true, ExpiresAt: now.Add(h.opts.CodeDeleteAfter)}
	r.Parts = []Part{{Text: c.Account.Name() + ": "}, {Text: c.Code, Code: true}}
	if c.Account.Kind == otp.HOTP {
		r.Parts = append(r.Parts, Part{Text: " (counter-based: valid until you use it; the next /code gives a new one)"})
	} else if left := h.secondsLeft(c); left < nextCodeUnder && c.Next != "" && c.Period >= 2*nextCodeUnder*time.Second {
		// (Periods too short for that, a few seconds, only ever appear in
		// tests; their next code would be as short-lived.)
		// Too little time to type it: the next code, and from when.
		r.Parts = append(r.Parts, Part{Text: ", then "}, Part{Text: c.Next, Code: true},
			Part{Text: fmt.Sprintf(" from %s (%d s left on the first)", c.ValidUntil.In(now.Location()).Format("15:04:05"), left)})
		r.CodeValidUntil = c.ValidUntil.Add(c.Period)
	} else {
		r.Parts = append(r.Parts, Part{Text: fmt.Sprintf(" — valid for %d s", left)})
		r.CodeValidUntil = c.ValidUntil
	}
	r.Buttons = [][]Button{{{Label: "Refresh", Data: "/code #" + c.Account.ID, Typed: "/code " + c.Account.Name()}}}
	return r
}

func (h *Handler) codesReply(codes []core.Code) Reply {
	now := h.opts.Clock.Now()
	r := Reply{Sensitive: true, ExpiresAt: now.Add(h.opts.CodeDeleteAfter)}
	for i, c := range codes {
		if i > 0 {
			r.Parts = append(r.Parts, Part{Text: "\n"})
		}
		if c.Code == "" {
			r.Parts = append(r.Parts, Part{Text: c.Account.Name() + ": counter-based, send /code " + c.Account.Name()})
			continue
		}
		r.Parts = append(r.Parts, Part{Text: c.Account.Name() + ": "}, Part{Text: c.Code, Code: true},
			Part{Text: fmt.Sprintf(" — %d s", h.secondsLeft(c))})
		if r.CodeValidUntil.IsZero() || c.ValidUntil.Before(r.CodeValidUntil) {
			r.CodeValidUntil = c.ValidUntil
		}
	}
	r.Buttons = [][]Button{{{Label: "Refresh", Data: "/code"}}}
	return r
}

func (h *Handler) cmdList(ctx context.Context, req Request, args string) []Reply {
	list, err := h.svc.List(ctx, req.Person)
	if err != nil {
		return h.fail(err)
	}
	if len(list) == 0 {
		return h.fail(core.ErrNoAccounts)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Your accounts (%d):", len(list))
	for _, a := range list {
		b.WriteString("\n• " + a.Name())
		var extra []string
		if a.Issuer != "" && !strings.EqualFold(a.Issuer, a.Label) {
			extra = append(extra, a.Issuer)
		}
		if a.User != "" {
			extra = append(extra, a.User)
		}
		if a.Kind != otp.TOTP {
			extra = append(extra, strings.ToUpper(string(a.Kind)))
		}
		if len(extra) > 0 {
			b.WriteString(" (" + strings.Join(extra, ", ") + ")")
		}
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

// cmdAdd: /add NAME KEY, /add LINK, /add NAME LINK, /add NAME (the next
// message is the key), /add alone.
func (h *Handler) cmdAdd(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		h.setPending(req.Person, pending{kind: "add"})
		return []Reply{{Parts: plain("Send me the new account as NAME KEY (for example: binance JBSW Y3DP EHPK 3PXP), or paste its otpauth:// link, or send a screenshot of its QR code. /cancel to stop.")}}
	}
	fields := strings.Fields(args)
	if len(fields) == 1 && !strings.Contains(strings.ToLower(args), "://") && !looksLikeKey(args) {
		label := core.CleanLabel(fields[0])
		h.setPending(req.Person, pending{kind: "add", label: label})
		return []Reply{{Parts: plain(fmt.Sprintf("Now send me the backup key for %s (the text shown next to the QR code while you set up 2FA). /cancel to stop.", label))}}
	}
	return h.addFromText(ctx, req, "", args)
}

// addFromText stores an account from "NAME KEY", "LINK", "NAME LINK" or,
// when label is given, a bare "KEY" or "LINK". The message carried a
// secret, so every reply asks for it to be deleted.
func (h *Handler) addFromText(ctx context.Context, req Request, label, text string) []Reply {
	deleted := deletionNote(req)
	text = strings.TrimSpace(text)
	lower := strings.ToLower(text)
	if strings.HasPrefix(lower, "otpauth-migration://") {
		return h.importText(ctx, req, text)
	}
	var key otp.Key
	if i := strings.Index(lower, "otpauth://"); i >= 0 {
		if label == "" && i > 0 {
			label = strings.TrimSpace(text[:i])
		}
		k, err := otp.ParseURI(text[i:])
		if err != nil {
			return []Reply{{Parts: plain(h.explain(err) + deleted), DeleteRequest: true, refused: true}}
		}
		key = k
	} else {
		var words []string
		if label == "" {
			fields := strings.Fields(text)
			if len(fields) < 2 {
				return []Reply{{Parts: plain("Give the account a name before the key, for example: /add binance JBSW Y3DP EHPK 3PXP." + deleted), DeleteRequest: true, refused: true}}
			}
			label, words = fields[0], fields[1:]
		} else {
			words = strings.Fields(text)
		}
		rd := readAddKey(label, words)
		switch {
		case rd.code > 0:
			return []Reply{{Parts: plain(fmt.Sprintf("That looks like a %d-digit code from an app, not the backup key; the backup key is the long text shown beside the QR code while you turn on two-factor login. Nothing was stored.", rd.code) + deleted), DeleteRequest: true, refused: true}}
		case rd.err != nil:
			return []Reply{{Parts: plain(h.explain(rd.err) + deleted), DeleteRequest: true, refused: true}}
		case rd.ask:
			name := core.CleanLabel(rd.label)
			h.setPending(req.Person, pending{kind: "confirm-add", label: name, secret: rd.secret})
			return []Reply{{Parts: plain(fmt.Sprintf("Is the name '%s' and the key %s? Answer yes or no.", name, maskedKey(rd.secret)) + deleted),
				DeleteRequest: true, Sensitive: true}}
		}
		key = otp.Key{Params: otp.Default(otp.TOTP)}
		key.Params.Secret = rd.secret
	}
	return h.storeKey(ctx, req, label, key)
}

// storeKey adds the account and shows the key as read, masked, so the
// person can compare it with the site.
func (h *Handler) storeKey(ctx context.Context, req Request, label string, key otp.Key) []Reply {
	deleted := deletionNote(req)
	sum, err := h.svc.Add(ctx, req.Person, core.NewAccount{Label: label, Key: key})
	if err != nil {
		return []Reply{{Parts: plain(h.explain(err) + deleted), DeleteRequest: true, refused: true}}
	}
	msg := fmt.Sprintf("Added %s. %s Send /code %s for its code.", sum.Name(), keyCheck(key.Params.Secret), sum.Name())
	if sum.Kind == otp.HOTP {
		msg += " It is counter-based: each /code uses the next counter."
	}
	return []Reply{{Parts: plain(msg + deleted), DeleteRequest: true, Sensitive: true}}
}

// answerAdd takes yes or no to "Is the name … and the key …?".
func (h *Handler) answerAdd(ctx context.Context, req Request, q pending, yes bool) []Reply {
	if !yes {
		return []Reply{{Parts: plain(fmt.Sprintf("OK, nothing was stored. Send it again as /add NAME KEY: the name as one word (for example %s), then the key exactly as the site shows it.", q.label))}}
	}
	key := otp.Key{Params: otp.Default(otp.TOTP)}
	key.Params.Secret = q.secret
	return h.storeKey(ctx, req, q.label, key)
}

// deletionNote tells the person what happens to the message that carried
// a secret, on platforms where the bot deletes it.
func deletionNote(req Request) string {
	if req.Platform == "console" {
		return ""
	}
	return "\nI am deleting your message with the key from this chat."
}

func (h *Handler) cmdRename(ctx context.Context, req Request, args string) []Reply {
	fields := strings.Fields(args)
	if len(fields) > 2 {
		// Names are one word: say so, with the word they can use.
		joined := core.CleanLabel(strings.Join(fields[1:], " "))
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename %s: names are one word, so use %s (send /rename %s %s).", fields[0], joined, fields[0], joined)), Sensitive: true}}
	}
	if len(fields) != 2 {
		return []Reply{{Parts: plain("Use: /rename OLD NEW, for example /rename binance binance-main.")}}
	}
	old, err := h.svc.Resolve(ctx, req.Person, fields[0])
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename anything: %d accounts match %q (%s). Send /rename with the whole name.", len(amb.Matches), fields[0], labels(amb.Matches))), Sensitive: true}}
	}
	if err != nil {
		return h.fail(err)
	}
	sum, err := h.svc.Rename(ctx, req.Person, "#"+old.ID, fields[1])
	var taken *core.NameTakenError
	switch {
	case errors.As(err, &taken):
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename %s to %s: you already have an account called %s. Pick another name.", old.Name(), fields[1], taken.Label)), Sensitive: true}}
	case errors.Is(err, core.ErrBadLabel):
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename %s: %q is not usable as a name (one word of up to %d characters, for example kraken-pro; no / except before a vault name).", old.Name(), fields[1], core.MaxLabelLen)), Sensitive: true}}
	case err != nil:
		return h.fail(err)
	}
	return []Reply{{Parts: plain(fmt.Sprintf("Renamed %s to %s.", old.Name(), sum.Name())), Sensitive: true}}
}

// cmdDel asks first; "/del NAME yes" (or the button) deletes. The button
// carries the account id, so it deletes exactly what was shown.
func (h *Handler) cmdDel(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		return []Reply{{Parts: plain("Use: /del NAME. I will ask before deleting anything.")}}
	}
	query, confirmed := inlineYes(args)
	sum, err := h.svc.Resolve(ctx, req.Person, query)
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{h.choose(fmt.Sprintf("%d accounts match %q. Which one do you want to delete?", len(amb.Matches), query), amb.Matches, "/del")}
	}
	if err != nil {
		return h.fail(err)
	}
	if !confirmed || !exactName(query, sum.Name(), sum.ID) {
		h.setPending(req.Person, pending{kind: "confirm-del", id: sum.ID, label: sum.Name()})
		q := "Delete %s? Its backup key will be gone from here for good; make sure 2FA is off at the service or the key is stored elsewhere. Answer yes or no."
		if confirmed {
			q = "Delete %s? I delete without asking only when the whole name comes before yes. Its backup key will be gone from here for good. Answer yes or no."
		}
		return []Reply{{
			Parts:     plain(fmt.Sprintf(q, sum.Name())),
			Buttons:   [][]Button{{{Label: "Yes, delete " + sum.Name(), Data: "/del #" + sum.ID + " yes", Typed: "/del " + sum.Name() + " yes"}, {Label: "Keep it", Data: "/cancel"}}},
			Sensitive: true,
		}}
	}
	if _, err := h.svc.Delete(ctx, req.Person, sum.ID); err != nil {
		return h.fail(err)
	}
	return []Reply{{Parts: plain(fmt.Sprintf("Deleted %s.", sum.Name())), Sensitive: true}}
}
