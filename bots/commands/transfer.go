package commands

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/transfer"
	"github.com/authbot/authbot/lang"
)

// Import and export: files and QR screenshots in, otpauth links, QR codes
// and encrypted Aegis vaults out.

// maxPasswordTries is how many wrong passwords an encrypted import takes
// before the file is forgotten and must be sent again.
const maxPasswordTries = 3

// maxHeldFiles bounds the files kept in memory while a person sends the
// parts of an export one by one (Steam's manifest.json and its maFiles).
// They are never written anywhere and go when the question expires
// (Options.PendingTimeout), on /cancel, or with the next command.
const maxHeldFiles = 16

// attachment handles a file or photo: QR codes and other apps' exports.
// A file that is one part of an export (transfer.ErrNeedFile) is held in
// memory until the rest arrives, in either order.
func (h *Handler) attachment(ctx context.Context, req Request) []Reply {
	var held [][]byte
	if p, ok := h.takePending(req.Person); ok && p.kind == "import-files" {
		held = p.files
	}
	a := req.Attachment
	if len(a.Data) > MaxAttachmentBytes {
		return []Reply{{Parts: plain(req.printer().T("import.file_too_large", "MB", len(a.Data)>>20)), DeleteRequest: true}}
	}
	if a.Image {
		return h.importImage(ctx, req, a.Data)
	}
	files := append(append([][]byte{}, held...), a.Data)
	res, err := h.importer.ImportFiles(ctx, files, "")
	if len(held) > 0 {
		// The new file may be a whole export of its own, not the missing
		// part: then it is read alone and the held files are dropped.
		alone, aloneErr := h.importer.ImportFiles(ctx, [][]byte{a.Data}, "")
		combinedFits := err == nil || errors.Is(err, transfer.ErrPasswordRequired) || errors.Is(err, transfer.ErrNeedFile)
		if aloneErr == nil || errors.Is(aloneErr, transfer.ErrPasswordRequired) || !combinedFits {
			files, res, err = [][]byte{a.Data}, alone, aloneErr
		}
	}
	var nf *transfer.NeedFileError
	switch {
	case errors.Is(err, transfer.ErrImage):
		return h.importImage(ctx, req, a.Data)
	case errors.As(err, &nf):
		if len(files) > maxHeldFiles {
			return []Reply{{Parts: plain(req.printer().T("import.too_many_files", "Max", maxHeldFiles)), DeleteRequest: true}}
		}
		h.setPending(req.Person, pending{kind: "import-files", files: files})
		return []Reply{{Parts: plain(req.printer().N("import.held", len(files), "Reason", importReason(req.printer(), nf), "Wait", durIn(req.printer(), h.opts.PendingTimeout))), DeleteRequest: true}}
	case errors.Is(err, transfer.ErrPasswordRequired):
		h.setPending(req.Person, pending{kind: "import-password", files: files})
		msg := req.printer().T("import.password")
		if errors.Is(err, transfer.ErrSlowKDF) {
			msg += " " + req.printer().T("import.password_slow")
		}
		return []Reply{{Parts: plain(msg), DeleteRequest: true, AsksSecret: true}}
	case err != nil:
		return []Reply{{Parts: plain(importFailure(h.printer(req), err) + deletionNote(req)), DeleteRequest: true}}
	}
	return h.storeImport(ctx, req, res)
}

// importImage looks for QR codes in a picture and imports what they hold
// (transfer.ReadPicture, the second half of the import flow the command
// line shares).
func (h *Handler) importImage(ctx context.Context, req Request, img []byte) []Reply {
	found, err := h.importer.ReadPicture(ctx, h.qr, img)
	if err != nil {
		var msg string
		switch {
		case errors.Is(err, qr.ErrNoQR):
			msg = req.printer().T("import.no_qr")
		case errors.Is(err, qr.ErrNotImage), errors.Is(err, qr.ErrImageTooLarge):
			msg = importReason(req.printer(), err) + "."
		default:
			msg = h.explain(req, err)
		}
		return []Reply{{Parts: plain(msg + deletionNote(req)), DeleteRequest: true}}
	}
	var replies []Reply
	for _, f := range found {
		switch {
		case f.Link != "":
			replies = append(replies, h.addFromText(ctx, req, "", f.Link)...)
		case errors.Is(f.Err, transfer.ErrQRNotOTP):
			replies = append(replies, Reply{Parts: plain(req.printer().T("import.qr_not_otp") + deletionNote(req)), DeleteRequest: true})
		case f.Err != nil:
			replies = append(replies, Reply{Parts: plain(importFailure(h.printer(req), f.Err) + deletionNote(req)), DeleteRequest: true})
		default:
			replies = append(replies, h.storeImport(ctx, req, f.Result)...)
		}
	}
	return replies
}

// importText handles a pasted otpauth-migration:// link (or several, one
// per line, or any text export).
func (h *Handler) importText(ctx context.Context, req Request, text string) []Reply {
	res, err := h.importer.Import(ctx, []byte(text), "")
	if err != nil {
		return []Reply{{Parts: plain(importFailure(h.printer(req), err) + deletionNote(req)), DeleteRequest: true}}
	}
	return h.storeImport(ctx, req, res)
}

// importPassword is the person's answer to "send me the password".
func (h *Handler) importPassword(ctx context.Context, req Request, p pending, password string) []Reply {
	res, err := h.importer.ImportFiles(ctx, p.files, password)
	if errors.Is(err, transfer.ErrWrongPassword) {
		p.attempts++
		if p.attempts >= maxPasswordTries {
			return []Reply{{Parts: plain(req.printer().T("import.password_wrong_last")), DeleteRequest: true}}
		}
		h.setPending(req.Person, p)
		return []Reply{{Parts: plain(req.printer().T("import.password_wrong", "Tries", p.attempts, "Max", maxPasswordTries)), DeleteRequest: true, AsksSecret: true}}
	}
	if err != nil {
		return []Reply{{Parts: plain(importFailure(h.printer(req), err)), DeleteRequest: true}}
	}
	replies := h.storeImport(ctx, req, res)
	replies[0].DeleteRequest = true
	return replies
}

// storeImport adds what a file held, all in one transaction, and reports
// what was added, what was already there and what could not be read.
func (h *Handler) storeImport(ctx context.Context, req Request, res *transfer.Result) []Reply {
	_, text, err := h.importIn(ctx, req.printer(), req.Person, res)
	if err != nil {
		r := h.failReply(req, err)
		r.Parts = plain(r.PlainText() + " " + req.printer().T("import.nothing_stored"))
		r.DeleteRequest = true
		return []Reply{r}
	}
	return []Reply{{Parts: plain(text + deletionNote(req)), DeleteRequest: true, Sensitive: true}}
}

// Import stores the accounts of an imported file for person in one
// transaction and describes the outcome for the person: what was added,
// what was already stored, which entries could not be read, and which
// parts of a multi-part Google export are still missing. authbot import
// uses it too.
func (h *Handler) Import(ctx context.Context, person string, res *transfer.Result) (core.ImportReport, string, error) {
	return h.importIn(ctx, h.cat.Printer(lang.English), person, res)
}

func (h *Handler) importIn(ctx context.Context, p *lang.Printer, person string, res *transfer.Result) (core.ImportReport, string, error) {
	accounts := make([]core.NewAccount, len(res.Keys))
	for i, k := range res.Keys {
		accounts[i] = core.NewAccount{Key: k}
	}
	var rep core.ImportReport
	if len(accounts) > 0 {
		var err error
		if rep, err = h.svc.AddMany(ctx, person, accounts); err != nil {
			return rep, "", err
		}
	}
	var b strings.Builder
	switch n := len(rep.Added); {
	case n == 0 && len(rep.Duplicates) == 0 && len(res.Bad) == 0:
		b.WriteString(p.T("import.empty", "Format", formatName(p, res.Format)))
	case n == 0:
		b.WriteString(p.T("import.nothing_new", "Format", formatName(p, res.Format)))
	default:
		b.WriteString(p.N("import.imported", n, "Format", formatName(p, res.Format), "Names", summaryLabels(p, rep.Added)))
	}
	for _, d := range rep.Duplicates {
		b.WriteString("\n" + p.T("import.duplicate", "Name", d.Incoming, "Existing", d.Existing))
	}
	if len(res.Bad) > 0 {
		b.WriteString("\n" + p.N("import.bad", len(res.Bad)))
		for _, bad := range res.Bad {
			b.WriteString("\n• " + problemLine(p, bad))
		}
	}
	if missing := h.noteBatchParts(p, person, res); missing != "" {
		b.WriteString("\n" + missing)
	}
	return rep, b.String(), nil
}

// Bounds on the Google export parts remembered: a person sends the QR
// codes of one export (rarely two) within minutes, so a few exports per
// person and a modest total are plenty; more is someone filling memory.
const (
	maxBatchesPerPerson = 4
	maxBatches          = 1000
	batchTTL            = time.Hour
	// maxMissingShown is how many missing part numbers one reply lists.
	maxMissingShown = 20
)

// noteBatchParts remembers which parts of a Google Authenticator export
// arrived and says which are still missing. What it keeps and prints is
// bounded whatever the links claim: transfer refuses a batch_size over
// transfer.MaxBatchSize, stale exports expire, each person keeps at most
// maxBatchesPerPerson and everyone together maxBatches (the oldest go).
func (h *Handler) noteBatchParts(p *lang.Printer, person string, res *transfer.Result) string {
	parts := res.Parts
	if parts == nil && res.Batch != nil {
		parts = []transfer.Batch{*res.Batch}
	}
	if len(parts) == 0 || parts[0].Size <= 1 {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.opts.Clock.Now()
	h.sweepBatches(now)
	var out []string
	seenBatch := map[int32]bool{}
	for _, p := range parts {
		if p.Size <= 1 || p.Size > transfer.MaxBatchSize || p.Index < 0 || p.Index >= p.Size {
			continue // transfer never returns these; do not trust it here
		}
		key := batchKey{person, p.ID}
		st := h.batches[key]
		if st == nil {
			h.makeRoomForBatch(person)
			st = &batchState{seen: map[int]bool{}, size: p.Size}
			h.batches[key] = st
		}
		if p.Index < st.size {
			st.seen[p.Index] = true
		}
		st.expires = now.Add(batchTTL)
		seenBatch[p.ID] = true
	}
	for id := range seenBatch {
		key := batchKey{person, id}
		st := h.batches[key]
		var missing []string
		n := 0
		for i := 0; i < st.size; i++ {
			if !st.seen[i] {
				n++
				if len(missing) < maxMissingShown {
					missing = append(missing, fmt.Sprint(i+1))
				}
			}
		}
		if n == 0 {
			out = append(out, p.N("import.batch_done", st.size))
			delete(h.batches, key)
			continue
		}
		list := strings.Join(missing, ", ")
		if n > len(missing) {
			list += " " + p.N("import.batch_and_more", n-len(missing))
		}
		out = append(out, p.N("import.batch_missing", st.size, "Parts", list))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// batchKey names one export of one person.
type batchKey struct {
	person string
	id     int32
}

// sweepBatches drops expired exports; h.mu is held.
func (h *Handler) sweepBatches(now time.Time) {
	for k, st := range h.batches {
		if now.After(st.expires) {
			delete(h.batches, k)
		}
	}
}

// makeRoomForBatch drops the exports that expire first until person has
// room for one more and the total is under maxBatches; h.mu is held.
func (h *Handler) makeRoomForBatch(person string) {
	for {
		mine := 0
		var oldest, oldestMine *batchKey
		for k, st := range h.batches {
			k := k
			if oldest == nil || st.expires.Before(h.batches[*oldest].expires) {
				oldest = &k
			}
			if k.person == person {
				mine++
				if oldestMine == nil || st.expires.Before(h.batches[*oldestMine].expires) {
					oldestMine = &k
				}
			}
		}
		switch {
		case mine >= maxBatchesPerPerson:
			delete(h.batches, *oldestMine)
		case len(h.batches) >= maxBatches:
			delete(h.batches, *oldest)
		default:
			return
		}
	}
}

// batchState tracks the parts of one multi-QR Google export.
type batchState struct {
	size    int
	seen    map[int]bool
	expires time.Time
}

func summaryLabels(p *lang.Printer, s []core.Summary) string {
	const show = 20
	l := labels(s[:min(len(s), show)])
	if len(s) > show {
		l += " " + p.N("import.and_more_list", len(s)-show)
	}
	return l
}

// durIn says a configured duration: Go's own spelling ("1m0s") in
// English, as before, and the language's words elsewhere.
func durIn(p *lang.Printer, d time.Duration) string {
	if p.Tag() == lang.English {
		return d.String()
	}
	return waitWords(p, d)
}

// cmdExport: /export NAME asks, /export NAME yes shows the link and QR;
// /export alone (or "all") asks for a password and sends an encrypted
// Aegis vault plus Google Authenticator transfer QR codes.
func (h *Handler) cmdExport(ctx context.Context, req Request, args string) []Reply {
	if args == "" || strings.EqualFold(args, "all") {
		if _, err := h.svc.List(ctx, req.Person); err != nil {
			return h.fail(req, err)
		}
		h.setPending(req.Person, pending{kind: "export-password"})
		return []Reply{{Parts: plain(req.printer().T("export.all_ask", "Min", transfer.MinExportPassword)), AsksSecret: true}}
	}
	query, confirmed := inlineYes(args)
	// Only ask first: the secret is neither read nor audited yet.
	sum, err := h.svc.Exportable(ctx, req.Person, query)
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{h.choose(req.printer().N("export.which", len(amb.Matches), "Query", query), amb.Matches, "/export")}
	}
	if err != nil {
		return h.fail(req, err)
	}
	if !confirmed || !exactName(query, sum.Name(), sum.ID) {
		h.setPending(req.Person, pending{kind: "confirm-export", id: sum.ID, label: sum.Name()})
		p := req.printer()
		id := "export.confirm"
		if confirmed {
			id = "export.confirm_whole"
		}
		return []Reply{{
			Parts:     plain(p.T(id, "Name", sum.Name(), "Wait", durIn(p, h.opts.ExportDeleteAfter))),
			Buttons:   [][]Button{{{Label: p.T("export.button_show"), Data: "/export #" + sum.ID + " yes", Typed: "/export " + sum.Name() + " yes"}, {Label: p.T("export.button_cancel"), Data: "/cancel"}}},
			Sensitive: true,
		}}
	}
	query = "#" + sum.ID
	acct, err := h.svc.Export(ctx, req.Person, query)
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{h.choose(req.printer().N("export.which", len(amb.Matches), "Query", query), amb.Matches, "/export")}
	}
	if err != nil {
		return h.fail(req, err)
	}
	key := acct.Key()
	uri := key.URI()
	png, err := qr.Encode(uri, 512)
	if err != nil {
		return h.fail(req, err)
	}
	expires := h.opts.Clock.Now().Add(h.opts.ExportDeleteAfter)
	p := req.printer()
	text := []Part{
		{Text: acct.Name() + " — " + p.T("export.scan") + "\n"},
		{Text: otp.EncodeSecret(key.Params.Secret), Code: true},
		{Text: "\n" + p.T("export.link") + " "}, {Text: uri, Code: true},
		{Text: "\n" + p.T("export.deleted_in", "Wait", durIn(p, h.opts.ExportDeleteAfter))},
	}
	if key.Params.Kind == otp.Steam {
		// Steam Guard codes are 5 characters from Steam's own alphabet; an
		// app without Steam support reads the link as a plain 6-digit key.
		text = append(text, Part{Text: "\n" + p.T("export.steam")})
	}
	return []Reply{{
		Parts: text, Sensitive: true, ExpiresAt: expires,
		Image: &File{Name: acct.Label + "-qr.png", MIME: "image/png", Data: png, Caption: acct.Label},
	}}
}

// exportAll answers the export password.
func (h *Handler) exportAll(ctx context.Context, req Request, password string) []Reply {
	if errors.Is(transfer.CheckExportPassword(password), transfer.ErrWeakPassword) {
		h.setPending(req.Person, pending{kind: "export-password"})
		return []Reply{{Parts: plain(req.printer().T("export.password_short", "Min", transfer.MinExportPassword)), DeleteRequest: true, AsksSecret: true}}
	}
	accounts, err := h.svc.ExportAll(ctx, req.Person)
	if err != nil {
		r := h.failReply(req, err)
		r.DeleteRequest = true
		return []Reply{r}
	}
	keys := make([]otp.Key, len(accounts))
	for i, a := range accounts {
		keys[i] = a.Key()
	}
	vault, err := transfer.ExportAegis(keys, password)
	if err != nil {
		r := h.failReply(req, err)
		r.DeleteRequest = true
		return []Reply{r}
	}
	expires := h.opts.Clock.Now().Add(h.opts.ExportDeleteAfter)
	replies := []Reply{{
		Parts:         plain(req.printer().N("export.vault", len(keys), "Wait", durIn(req.printer(), h.opts.ExportDeleteAfter))),
		File:          &File{Name: "authbot-export.json", MIME: "application/json", Data: vault},
		DeleteRequest: true, Sensitive: true, ExpiresAt: expires,
	}}
	uris, skipped, err := transfer.GoogleMigrationURIs(keys)
	if err != nil {
		return append(replies, h.failReply(req, err))
	}
	for i, u := range uris {
		png, err := qr.Encode(u, 768)
		if err != nil {
			return append(replies, h.failReply(req, err))
		}
		replies = append(replies, Reply{
			Parts:     plain(req.printer().T("export.google", "N", i+1, "Total", len(uris))),
			Image:     &File{Name: fmt.Sprintf("google-transfer-%d-of-%d.png", i+1, len(uris)), MIME: "image/png", Data: png},
			Sensitive: true, ExpiresAt: expires,
		})
	}
	if len(skipped) > 0 {
		var names []string
		for _, k := range skipped {
			names = append(names, core.Describe(k))
		}
		replies = append(replies, Reply{Parts: plain(req.printer().T("export.google_skipped", "Names", strings.Join(names, ", "))), Sensitive: true, ExpiresAt: expires})
	}
	return replies
}
