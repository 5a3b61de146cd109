package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/transfer"
)

// Errors into sentences: every function that turns an error from core (or
// from reading a key or a file) into what the person reads lives here, so
// the wording of refusals is in one place.

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

func (h *Handler) fail(err error) []Reply {
	return []Reply{h.failReply(err)}
}

// failReply explains err; an unexpected error marks the reply failed for
// the Observer.
func (h *Handler) failReply(err error) Reply {
	msg, expected := h.describe(err)
	return Reply{Parts: plain(msg), failed: !expected, refused: true}
}

// describeTeam explains the shared-vault errors; ok is false for others.
func describeTeam(err error) (string, bool) {
	var (
		nv *core.NoVaultError
		ve *core.VaultExistsError
		re *core.RoleError
		ml *core.MemberLockedError
		me *core.MemberError
	)
	switch {
	case errors.As(err, &nv):
		return fmt.Sprintf("You are not in a shared vault called %s. /vault list shows yours.", nv.Name), true
	case errors.As(err, &ve):
		return fmt.Sprintf("The name %s is taken. Pick another one.", ve.Name), true
	case errors.As(err, &re) && re.Admin:
		return fmt.Sprintf("Only the admins of %s can change who is in it.", re.Vault), true
	case errors.As(err, &re):
		return fmt.Sprintf("In %s you get codes only: the backup key stays hidden, and only its managers can change or export accounts. Ask an admin of %s.", re.Vault, re.Vault), true
	case errors.As(err, &ml):
		return fmt.Sprintf("%s has locked their vault with a passphrase, so I cannot give them the vault's key right now. Ask them to /unlock, then try again.", ml.Person), true
	case errors.As(err, &me) && me.Member:
		return fmt.Sprintf("%s is already in that vault with that role.", me.Person), true
	case errors.As(err, &me):
		return fmt.Sprintf("%s is not in that vault.", me.Person), true
	case errors.Is(err, core.ErrBadVaultName):
		return fmt.Sprintf("That vault name is not usable. Use up to %d letters, digits, '-', '_' or '.', for example team or family.", core.MaxVaultNameLen), true
	case errors.Is(err, core.ErrBadRole):
		return "Roles are codes (the default: codes only), manager (may add, rename and export) and admin (also changes who is in the vault).", true
	case errors.Is(err, core.ErrLastAdmin):
		return "A vault needs at least one admin. Make someone else admin first.", true
	case errors.Is(err, core.ErrSelf):
		return "You cannot change your own role. Ask another admin.", true
	}
	return "", false
}

// describeLock explains the lock errors; ok is false for others.
func (h *Handler) describeLock(err error) (string, bool) {
	var (
		wp *core.WrongPassphraseError
		lo *core.LockoutError
	)
	now := h.opts.Clock.Now()
	switch {
	case errors.Is(err, core.ErrLocked):
		return "Your accounts are locked with your passphrase. Send /unlock PASSPHRASE (I delete the message).", true
	case errors.Is(err, core.ErrNotLocked):
		return "You have no passphrase set. Send /lock PASSPHRASE to set one.", true
	case errors.Is(err, core.ErrWeakPassphrase):
		return fmt.Sprintf("That passphrase is too short: use at least %d characters, for example four unrelated words.", core.MinPassphrase), true
	case errors.As(err, &wp) && !wp.Until.IsZero():
		return fmt.Sprintf("That passphrase is wrong. After %d wrong tries, wait %s before the next one.", wp.Failures, waitWords(wp.Until.Sub(now))), true
	case errors.As(err, &wp):
		return "That passphrase is wrong. Check it and try again.", true
	case errors.As(err, &lo):
		return fmt.Sprintf("Too many wrong passphrases: wait %s, then try again.", waitWords(lo.Until.Sub(now))), true
	}
	return "", false
}

// describeApproval explains the approval errors; ok is false for others.
func describeApproval(err error) (string, bool) {
	switch {
	case errors.Is(err, core.ErrNoRequest):
		return "That request is no longer open: it was decided already or it expired.", true
	case errors.Is(err, core.ErrNoApprovalNeeded):
		return "That account needs no approval: send /code NAME.", true
	case errors.Is(err, core.ErrTooManyRequests):
		return "Too many approval requests are open (you may have five at a time). Wait for an admin to decide them, then ask again.", true
	}
	return "", false
}

// describePeople explains the people errors; ok is false for others.
func describePeople(err error) (string, bool) {
	switch {
	case errors.Is(err, core.ErrInviteInvalid):
		return "That invite is unknown, used or expired. Ask for a new one.", true
	case errors.Is(err, core.ErrClaimInvalid):
		return "That claim code is wrong, used or expired. Copy it again from the log of authbot serve (a restart prints a new one while nobody has claimed the bot).", true
	case errors.Is(err, core.ErrClaimClosed):
		return "Too many wrong claim codes were sent, so claiming is closed. Restart authbot serve for a new code.", true
	case errors.Is(err, core.ErrHasAdmin):
		return "This bot has an admin already: ask them for an invite.", true
	case errors.Is(err, core.ErrLinkInvalid):
		return "That link code is unknown, used or expired. Send /link again from the account you already use.", true
	case errors.Is(err, core.ErrIdentityTaken):
		return "This chat account already belongs to someone here.", true
	case errors.Is(err, core.ErrPersonExists):
		return "Someone here already has that name. Pick another.", true
	case errors.Is(err, core.ErrNoPerson):
		return "Nobody by that name was added with /invite. People in the config file are removed there.", true
	case errors.Is(err, core.ErrReservedName):
		return "That name is reserved for the person of authbot chat on the server. Pick another.", true
	case errors.Is(err, core.ErrBadPersonName):
		return fmt.Sprintf("That name is not usable: up to %d letters, digits, '-', '_' or '.'.", core.MaxVaultNameLen), true
	case errors.Is(err, core.ErrInVaults):
		return "They are still in shared vaults: remove them there first (/vault remove VAULT NAME), so each vault gets a new key.", true
	}
	return "", false
}

// ImportFailure explains why a file could not be imported, for a person.
func ImportFailure(err error) string { return importFailure(err) }

func importFailure(err error) string {
	switch {
	case errors.Is(err, transfer.ErrUnsupported):
		return upperFirst(err.Error()) + ". Nothing was stored."
	case errors.Is(err, transfer.ErrUnknownFormat):
		return "I cannot import that file: I did not recognise its format. I read exports of " + transfer.Supported + ". Nothing was stored."
	case errors.Is(err, transfer.ErrTooLarge), errors.Is(err, transfer.ErrCorruptFile), errors.Is(err, transfer.ErrWrongPassword),
		errors.Is(err, transfer.ErrNeedFile):
		return upperFirst(err.Error()) + ". Nothing was stored."
	}
	return "I could not read that file. Nothing was stored."
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// keyProblem is the one message for a key that cannot be read.
func keyProblem(se *otp.SecretError) string {
	p := secretProblem(se)
	if !strings.HasSuffix(p, "?") {
		p += "."
	}
	return "That backup key is not right: " + p + " Nothing was stored; check it and send it again."
}

// secretProblem says what is wrong with a typed key in the words a person
// knows, counting places the way the person sees the key: groups as typed.
func secretProblem(se *otp.SecretError) string {
	if se.Pos == 0 || se.Char == '=' {
		return se.Reason
	}
	c := otp.QuoteRune(se.Char)
	where := fmt.Sprintf("the %s character, %s,", ordinal(se.Pos), c)
	if se.Group > 0 {
		where = fmt.Sprintf("the %s group, %s: %s", ordinal(se.Group), se.GroupText, c)
	}
	if h := otp.Hint(se.Char); h != 0 {
		return fmt.Sprintf("%s is not used in backup keys; did you mean %c?", where, h)
	}
	return fmt.Sprintf("%s is not used in backup keys, which have only the letters A to Z and the digits 2 to 7", where)
}

func asAmbiguous(err error) (*core.AmbiguousError, bool) {
	var amb *core.AmbiguousError
	ok := errors.As(err, &amb)
	return amb, ok
}

func isNotFound(err error) bool {
	var nf *core.NotFoundError
	return errors.As(err, &nf)
}
