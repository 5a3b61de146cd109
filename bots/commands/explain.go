package commands

import (
	"context"
	"errors"
	"strings"
	"syscall"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/transfer"
	"github.com/authbot/authbot/lang"
)

// Errors into sentences: every function that turns an error from core (or
// from reading a key or a file) into what the person reads lives here, so
// the wording of refusals is in one place.

// explain turns an error from core into a sentence for the person. An
// unexpected error is logged in full and the person gets a generic line.
func (h *Handler) explain(req Request, err error) string {
	msg, _ := h.describe(req, err)
	return msg
}

// describe is explain that also says whether err was one a person causes
// (expected) rather than a failure on the bot's side.
func (h *Handler) describe(req Request, err error) (string, bool) {
	p := h.printer(req)
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
	if msg, ok := describeTeam(p, err); ok {
		return msg, true
	}
	if msg, ok := h.describeLock(p, err); ok {
		return msg, true
	}
	if msg, ok := describeApproval(p, err); ok {
		return msg, true
	}
	if msg, ok := describePeople(p, err); ok {
		return msg, true
	}
	switch {
	case errors.Is(err, core.ErrNoAccounts):
		return p.T("err.no_accounts"), true
	case errors.As(err, &nf):
		return p.T("err.not_found", "Query", nf.Query), true
	case errors.As(err, &amb):
		return p.N("err.ambiguous", len(amb.Matches), "Names", labels(amb.Matches)), true
	case errors.As(err, &tk):
		return p.T("err.name_taken", "Name", tk.Label), true
	case errors.As(err, &look):
		return p.T("err.confusable", "Name", look.Other), true
	case errors.Is(err, core.ErrCounterExhausted):
		return p.T("err.counter_exhausted"), true
	case errors.Is(err, core.ErrTooManyAccounts):
		return p.T("err.too_many_accounts", "Max", core.MaxImport), true
	case errors.As(err, &dup):
		return p.T("err.duplicate", "Name", dup.Label), true
	case errors.Is(err, core.ErrBadLabel):
		return p.T("err.bad_label"), true
	case errors.As(err, &se):
		return keyProblem(p, se), true
	case errors.As(err, &ue):
		return p.T("err.bad_link", "Reason", ue.Error()), true
	case errors.As(err, &pe):
		return p.T("err.bad_params", "Reason", pe.Error()), true
	case errors.As(err, &bad):
		h.opts.Log.Error("record cannot be opened", "err", err)
		return p.T("err.corrupt_record"), false
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EDQUOT):
		h.opts.Log.Error("storage refuses writes", "err", err)
		return p.T("err.storage_full"), false
	case errors.Is(err, core.ErrCorrupt):
		h.opts.Log.Error("database corrupt", "err", err)
		return p.T("err.corrupt_db"), false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return p.T("err.busy"), false
	}
	h.opts.Log.Error("command failed", "err", err)
	return p.T("err.internal"), false
}

func labels(s []core.Summary) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.Name()
	}
	return strings.Join(out, ", ")
}

func (h *Handler) fail(req Request, err error) []Reply {
	return []Reply{h.failReply(req, err)}
}

// failReply explains err; an unexpected error marks the reply failed for
// the Observer.
func (h *Handler) failReply(req Request, err error) Reply {
	msg, expected := h.describe(req, err)
	return Reply{Parts: plain(msg), failed: !expected, refused: true}
}

// describeTeam explains the shared-vault errors; ok is false for others.
func describeTeam(p *lang.Printer, err error) (string, bool) {
	var (
		nv *core.NoVaultError
		ve *core.VaultExistsError
		re *core.RoleError
		ml *core.MemberLockedError
		me *core.MemberError
	)
	switch {
	case errors.As(err, &nv):
		return p.T("vault.err.no_vault", "Vault", nv.Name), true
	case errors.As(err, &ve):
		return p.T("vault.err.exists", "Vault", ve.Name), true
	case errors.As(err, &re) && re.Admin:
		return p.T("vault.err.admins_only", "Vault", re.Vault), true
	case errors.As(err, &re):
		return p.T("vault.err.codes_only", "Vault", re.Vault), true
	case errors.As(err, &ml):
		return p.T("vault.err.member_locked", "Person", ml.Person), true
	case errors.As(err, &me) && me.Member:
		return p.T("vault.err.already_member", "Person", me.Person), true
	case errors.As(err, &me):
		return p.T("vault.err.not_member", "Person", me.Person), true
	case errors.Is(err, core.ErrBadVaultName):
		return p.T("vault.err.bad_name", "Max", core.MaxVaultNameLen), true
	case errors.Is(err, core.ErrBadRole):
		return p.T("vault.err.bad_role"), true
	case errors.Is(err, core.ErrLastAdmin):
		return p.T("vault.err.last_admin"), true
	case errors.Is(err, core.ErrSelf):
		return p.T("vault.err.self"), true
	}
	return "", false
}

// describeLock explains the lock errors; ok is false for others.
func (h *Handler) describeLock(p *lang.Printer, err error) (string, bool) {
	var (
		wp *core.WrongPassphraseError
		lo *core.LockoutError
	)
	now := h.opts.Clock.Now()
	switch {
	case errors.Is(err, core.ErrLocked):
		return p.T("lock.err.locked"), true
	case errors.Is(err, core.ErrNotLocked):
		return p.T("lock.err.not_locked"), true
	case errors.Is(err, core.ErrWeakPassphrase):
		return p.T("lock.err.weak", "Min", core.MinPassphrase), true
	case errors.As(err, &wp) && !wp.Until.IsZero():
		return p.T("lock.err.wrong_wait", "Failures", wp.Failures, "Wait", waitWords(p, wp.Until.Sub(now))), true
	case errors.As(err, &wp):
		return p.T("lock.err.wrong"), true
	case errors.As(err, &lo):
		return p.T("lock.err.lockout", "Wait", waitWords(p, lo.Until.Sub(now))), true
	}
	return "", false
}

// describeApproval explains the approval errors; ok is false for others.
func describeApproval(p *lang.Printer, err error) (string, bool) {
	switch {
	case errors.Is(err, core.ErrNoRequest):
		return p.T("approval.err.no_request"), true
	case errors.Is(err, core.ErrNoApprovalNeeded):
		return p.T("approval.err.not_needed"), true
	case errors.Is(err, core.ErrTooManyRequests):
		return p.T("approval.err.too_many"), true
	}
	return "", false
}

// describePeople explains the people errors; ok is false for others.
func describePeople(p *lang.Printer, err error) (string, bool) {
	switch {
	case errors.Is(err, core.ErrInviteInvalid):
		return p.T("people.err.invite_invalid"), true
	case errors.Is(err, core.ErrClaimInvalid):
		return p.T("claim.err.invalid"), true
	case errors.Is(err, core.ErrClaimClosed):
		return p.T("claim.err.closed"), true
	case errors.Is(err, core.ErrHasAdmin):
		return p.T("claim.err.has_admin"), true
	case errors.Is(err, core.ErrLinkInvalid):
		return p.T("people.err.link_invalid"), true
	case errors.Is(err, core.ErrIdentityTaken):
		return p.T("people.err.identity_taken"), true
	case errors.Is(err, core.ErrPersonExists):
		return p.T("people.err.exists"), true
	case errors.Is(err, core.ErrNoPerson):
		return p.T("people.err.no_person"), true
	case errors.Is(err, core.ErrReservedName):
		return p.T("people.err.reserved"), true
	case errors.Is(err, core.ErrBadPersonName):
		return p.T("people.err.bad_name", "Max", core.MaxVaultNameLen), true
	case errors.Is(err, core.ErrInVaults):
		return p.T("people.err.in_vaults"), true
	}
	return "", false
}

// ImportFailure explains why a file could not be imported, for a person.
func ImportFailure(err error) string {
	return importFailure(lang.MustLoad().Printer(lang.English), err)
}

func importFailure(p *lang.Printer, err error) string {
	switch {
	case errors.Is(err, transfer.ErrUnsupported):
		return p.T("import.err.reason", "Reason", importReason(p, err))
	case errors.Is(err, transfer.ErrUnknownFormat):
		return p.T("import.err.unknown_format", "Formats", supportedFormats(p))
	case errors.Is(err, transfer.ErrTooLarge), errors.Is(err, transfer.ErrCorruptFile), errors.Is(err, transfer.ErrWrongPassword),
		errors.Is(err, transfer.ErrNeedFile):
		return p.T("import.err.reason", "Reason", importReason(p, err))
	}
	return p.T("import.err.unreadable")
}

// reasonKeys map core/transfer's and core/qr's sentinels to the catalogue:
// their own texts are English sentences for a person. The first match wins,
// so the more specific sentinels come first.
var reasonKeys = []struct {
	err error
	key string
}{
	{transfer.ErrWrongPassword, "transfer.err.wrong_password"},
	{transfer.ErrPasswordRequired, "transfer.err.password_required"},
	{transfer.ErrWeakPassword, "transfer.err.weak_password"},
	{transfer.ErrTooLarge, "transfer.err.too_large"},
	{transfer.ErrCorruptFile, "transfer.err.corrupt"},
	{transfer.ErrImage, "transfer.err.image"},
	{transfer.ErrNeedFile, "transfer.err.need_file"},
	{transfer.ErrQRNotOTP, "transfer.err.qr_not_otp"},
	{transfer.ErrUnsupported, "transfer.err.unsupported"},
	{transfer.ErrUnknownFormat, "transfer.err.unknown_format"},
	{qr.ErrNoQR, "qr.err.no_qr"},
	{qr.ErrNotImage, "qr.err.not_image"},
	{qr.ErrImageTooLarge, "qr.err.too_large"},
}

// importReason is transfer.Reason (or qr.Reason) in the person's language,
// as a sentence without its final period. English keeps the packages' own
// text with its detail (which format, what is damaged); other languages get
// the sentinel's sentence from the catalogue, since the detail is English
// written by the format readers (it stays in the log).
func importReason(p *lang.Printer, err error) string {
	english := transfer.Reason(err)
	if english == "" {
		english = qr.Reason(err)
	}
	if p.Tag() == lang.English {
		return english
	}
	if d, ok := transfer.DetailOf(err); ok {
		if s, ok := sayDetail(p, "transfer.detail.", d); ok {
			return s
		}
	}
	for _, rk := range reasonKeys {
		if errors.Is(err, rk.err) {
			return p.T(rk.key, "Min", transfer.MinExportPassword)
		}
	}
	return english
}

// sayDetail words a transfer.Detail from the catalogue under prefix (a
// count among its values picks the plural form); false when the
// catalogue has no such message, as a Detail added to core/transfer
// without its words would be (TestTransferDetailsHaveWords prevents it).
func sayDetail(p *lang.Printer, prefix string, d transfer.Detail) (string, bool) {
	id := prefix + d.ID
	if lang.MustLoad().Forms(lang.English, id) == nil {
		return "", false
	}
	for i := 0; i+1 < len(d.Args); i += 2 {
		if k, _ := d.Args[i].(string); k == "Count" {
			if n, ok := d.Args[i+1].(int); ok {
				return p.N(id, n, d.Args...), true
			}
		}
	}
	return p.T(id, d.Args...), true
}

// problemLine is one skipped entry of an import, "entry 3 (GitHub: ann):
// why", in p's language: English keeps core/transfer's own words and
// detail; another language names the entry the same way and says the
// reason from the catalogue, or that the entry could not be read.
func problemLine(p *lang.Printer, bad transfer.Problem) string {
	if p.Tag() == lang.English {
		return bad.Entry + ": " + bad.Reason
	}
	entry := bad.Entry
	switch {
	case bad.Num > 0 && bad.Label != "":
		entry = p.T("import.entry", "N", bad.Num, "Label", bad.Label)
	case bad.Num > 0:
		entry = p.T("import.entry_bare", "N", bad.Num)
	case bad.Label != "":
		entry = p.T("import.entry_file", "Name", bad.Label)
	}
	reason, ok := sayDetail(p, "transfer.entry.", bad.Detail)
	if !ok {
		reason, ok = sayDetail(p, "transfer.detail.", bad.Detail)
	}
	if !ok {
		reason = p.T("transfer.entry.unreadable")
	}
	return entry + ": " + reason
}

// formatVariants are the words core/transfer adds to an app's name in
// Result.Format, longest first, with their catalogue ids.
var formatVariants = []struct{ en, id string }{
	{"(encrypted, old format)", "import.variant.encrypted_old"},
	{"(encrypted)", "import.variant.encrypted"},
	{"(password-protected)", "import.variant.password_protected"},
	{"(plain text)", "import.variant.plain_text"},
	{"in a zip", "import.variant.in_zip"},
}

// formatName is a Result.Format ("Aegis (encrypted)") in p's language:
// the app's name stays as the app spells it, the variant words are
// translated.
func formatName(p *lang.Printer, format string) string {
	if p.Tag() == lang.English {
		return format
	}
	for _, v := range formatVariants {
		w := p.T(v.id)
		if strings.HasPrefix(v.en, "(") {
			w = "(" + w + ")"
		}
		format = strings.ReplaceAll(format, v.en, w)
	}
	return format
}

// supportedFormats is transfer.Supported in p's language.
func supportedFormats(p *lang.Printer) string {
	if p.Tag() == lang.English {
		return transfer.Supported
	}
	return p.T("transfer.supported")
}

// keyProblem is the one message for a key that cannot be read.
func keyProblem(p *lang.Printer, se *otp.SecretError) string {
	return p.T("key.err.bad", "Problem", secretProblem(p, se))
}

// secretProblem says what is wrong with a typed key in the words a person
// knows, counting places the way the person sees the key: groups as typed.
func secretProblem(p *lang.Printer, se *otp.SecretError) string {
	if se.Pos == 0 || se.Char == '=' {
		switch {
		case errors.Is(se.Err, otp.ErrSecretEmpty):
			return p.T("key.reason.empty")
		case se.Len > 0 && errors.Is(se.Err, otp.ErrSecretTooShort):
			return p.T("key.reason.too_short", "Len", se.Len, "Min", otp.MinSecretChars)
		case se.Len > 0 && se.Pad > 0 && errors.Is(se.Err, otp.ErrSecretNotBase32):
			return p.T("key.reason.padding", "Len", se.Len, "Pad", se.Pad)
		case se.Len > 0 && errors.Is(se.Err, otp.ErrSecretNotBase32):
			return p.T("key.reason.length", "Len", se.Len)
		case se.Len > 0 && errors.Is(se.Err, otp.ErrSecretTooLong):
			return p.T("key.reason.too_long", "Len", se.Len, "Max", (otp.MaxSecretBytes*8+4)/5)
		case errors.Is(se.Err, otp.ErrSecretTooLong):
			return p.T("key.reason.input_too_long", "Max", otp.MaxSecretInput)
		case se.Len == 0 && errors.Is(se.Err, otp.ErrSecretNotBase32):
			return p.T("key.reason.not_text")
		}
		return p.T("key.reason.not_key")
	}
	c := otp.QuoteRune(se.Char)
	where := p.T("key.where_char", "Ordinal", ordinalIn(p, se.Pos), "Char", c)
	if se.Group > 0 {
		where = p.T("key.where_group", "Ordinal", ordinalIn(p, se.Group), "Group", se.GroupText, "Char", c)
	}
	if h := otp.Hint(se.Char); h != 0 {
		return p.T("key.bad_char_hint", "Where", where, "Hint", string(h))
	}
	return p.T("key.bad_char", "Where", where)
}

// ordinalIn writes "3rd" the language's way; the messages around it are
// worded so that the one form fits (Russian "символ № 3", "группа № 3").
func ordinalIn(p *lang.Printer, n int) string {
	if p.Tag() == lang.English {
		return ordinal(n)
	}
	return p.T("num.ordinal", "N", n)
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
