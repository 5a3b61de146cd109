package commands

import (
	"context"
	"strings"

	"github.com/authbot/authbot/lang"
)

// command is one entry of the command table, and the only place a
// command's policy lives: the secret check, the rate limiter, the group
// rule, the admin rule, /help and the platforms' menus all read it (see
// policy in pipeline.go). Aliases resolve to their entry before any rule
// runs, so every spelling gets the same treatment.
type command struct {
	name string
	// aliases are other spellings. Telegram allows only a-z, 0-9 and _ in
	// command names, so a hyphenated name needs an underscore alias: the
	// menu shows that one (it is what a tap sends).
	aliases []string
	args    string // how the arguments are written, for /help
	// Its one line for /help and the platforms' command menus is the
	// catalogue message "cmd.NAME" (lang/messages).
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
	// miniApp: it works only where the platform opens Mini Apps
	// (Request.MiniApp); elsewhere /help leaves it out.
	miniApp bool
	run     func(h *Handler, ctx context.Context, req Request, args string) []Reply
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
func Menu() []MenuItem { return MenuIn(lang.English) }

// MenuIn is Menu with the descriptions in language t.
func MenuIn(t lang.Tag) []MenuItem {
	p := lang.MustLoad().Printer(t)
	var out []MenuItem
	for _, c := range commandTable() {
		if c.menu {
			out = append(out, MenuItem{Command: c.menuName(), Description: c.helpLine(p)})
		}
	}
	return out
}

// helpLine is c's one line for /help and the menus, in p's language.
func (c *command) helpLine(p *lang.Printer) string { return p.T("cmd." + c.name) }

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
	en := lang.MustLoad().Printer(lang.English)
	var out []Command
	for _, c := range commandTable() {
		secret := c.secret
		if secret == nil {
			secret = func(string) bool { return false }
		}
		out = append(out, Command{Name: c.name, Aliases: append([]string(nil), c.aliases...), Args: c.args, Help: c.helpLine(en),
			Menu: c.menu, MenuName: c.menuName(), Secret: secret, Example: c.example, TakesArgs: c.args != "", RateClass: string(c.rate),
			Admin: c.admin, Group: c.group, Stranger: c.stranger})
	}
	return out
}

func commandTable() []*command {
	return []*command{
		{name: "code", args: "[NAME]", menu: true, rate: rateCode, run: (*Handler).cmdCode},
		{name: "list", menu: true, rate: rateOther, run: (*Handler).cmdList},
		{name: "add", example: "binance JBSWY3DPEHPK3PXP", args: "NAME KEY | LINK", menu: true, secret: anyArgs, rate: rateWrite, run: (*Handler).cmdAdd},
		{name: "rename", args: "OLD NEW", menu: true, rate: rateWrite, topic: "more", run: (*Handler).cmdRename},
		{name: "del", aliases: []string{"delete"}, args: "NAME", menu: true, rate: rateWrite, topic: "more", run: (*Handler).cmdDel},
		{name: "export", args: "[NAME]", menu: true, rate: rateSecret, run: (*Handler).cmdExport},
		{name: "recover", example: "binance used aaaa-1111", args: "[NAME] [used CODE]", menu: true, secret: recoverArgs, rate: rateSecret, run: (*Handler).cmdRecover},
		{name: "recovery-codes", example: "binance aaaa-1111 bbbb-2222", aliases: []string{"recovery_codes"}, args: "NAME CODES…", menu: true, secret: anyArgs, rate: rateSecret, topic: "more", run: (*Handler).cmdRecoveryCodes},
		{name: "check", example: "binance 123456", args: "NAME CODE", menu: true, secret: anyArgs, rate: rateSecret, run: (*Handler).cmdCheck},
		{name: "vault", args: "new|add|remove|list …", menu: true, rate: rateWrite, topic: "team", run: (*Handler).cmdVault},
		{name: "audit", args: "[VAULT]", rate: rateSecret, topic: "team", run: (*Handler).cmdAudit},
		{name: "lock", example: "correct horse battery staple", args: "[PASSPHRASE | off]", secret: lockArgs, rate: rateLock, topic: "more", run: (*Handler).cmdLock},
		{name: "unlock", example: "correct horse battery staple", args: "PASSPHRASE", secret: anyArgs, rate: rateLock, topic: "more", run: (*Handler).cmdUnlock},
		{name: "approve", args: "ID [once|MINUTES]", rate: rateOther, topic: "team", run: (*Handler).cmdApprove},
		{name: "deny", args: "ID", rate: rateOther, topic: "team", run: (*Handler).cmdDeny},
		{name: "invite", args: "NAME", admin: true, rate: rateWrite, topic: "team", run: (*Handler).cmdInvite},
		{name: "people", rate: rateOther, topic: "team", run: (*Handler).cmdPeople},
		{name: "remove", args: "NAME", admin: true, rate: rateWrite, topic: "team", run: (*Handler).cmdRemove},
		// /app opens the Mini App; /web sends a single-use link to the
		// page, a credential until used or expired.
		{name: "app", menu: true, rate: rateOther, topic: "more", miniApp: true, run: (*Handler).cmdApp},
		{name: "web", rate: rateSecret, topic: "more", run: (*Handler).cmdWeb},
		// The link code and the invite token let another chat account in
		// as this person: secrets until used.
		{name: "link", example: "ABCD-1234", args: "[CODE]", secret: anyArgs, stranger: true, rate: rateOther, topic: "team", run: (*Handler).cmdLink},
		{name: "join", example: "tok3n-abcdef", args: "TOKEN", secret: anyArgs, stranger: true, rate: rateOther, topic: "hidden", run: (*Handler).cmdJoin},
		{name: "language", args: "[CODE]", menu: true, rate: rateOther, topic: "more", run: (*Handler).cmdLanguage},
		{name: "cancel", rate: rateOther, topic: "more", run: (*Handler).cmdCancel},
		{name: "help", menu: true, rate: rateOther, topic: "more", run: (*Handler).cmdHelp},
		{name: "start", example: "tok3n-abcdef", args: "[TOKEN]", secret: anyArgs, stranger: true, rate: rateOther, topic: "hidden", run: (*Handler).cmdStart},
	}
}
