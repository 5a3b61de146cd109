// Package transfer reads the export files of other authenticator apps and
// writes files they can read, so people can move their accounts into authbot
// and out again.
//
// Import recognises a file by its content, never its name: Aegis vaults
// (plain and encrypted), 2FAS backups, andOTP backups (plain and encrypted),
// Google Authenticator transfer links (otpauth-migration://), Bitwarden and
// Bitwarden Authenticator exports (JSON and CSV), FreeOTP+ JSON, Authenticator
// Pro / Stratum backups (plain and encrypted), Ente Auth's plain-text export,
// Ente Auth's encrypted export, Bitwarden's password-protected export,
// Steam Guard files (Steam Desktop Authenticator and steamguard-cli maFiles
// with their manifest.json, plain and encrypted), WinAuth's text export and
// its password-protected zip, LastPass Authenticator, Proton Authenticator,
// Raivo OTP, zip archives of any of these (traditional and WinZip AES
// encryption), and any text with otpauth:// links, one per line. Exports
// spread over several files (Steam) go through Importer.ImportFiles.
// ExportAegis writes an encrypted Aegis vault; GoogleMigrationURIs writes
// Google transfer links.
//
// Every file is hostile until parsed: sizes are capped before parsing, JSON
// nesting is bounded, key-derivation costs read from a file are capped before
// they are run, and a bad entry is reported (without its secret) rather than
// failing the whole file. Zip archives are held to limits on file count,
// sizes (declared and actual) and compression ratio.
package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authbot/authbot/core/otp"
)

// Limits on what Import accepts.
const (
	// MaxInput is the largest file Import reads: real exports of a few
	// hundred accounts are well under 1 MiB, even with icons.
	MaxInput = 5 << 20
	// MaxEntries is the most accounts one file may hold. Real exports
	// hold tens to a few hundred; the cap keeps one import's write
	// transaction (which blocks everyone's writes) short.
	MaxEntries = 2_000
	// maxDepth bounds JSON nesting; real exports nest 4 or 5 levels.
	maxDepth = 64
	// maxText bounds the issuer and account names kept from a file.
	maxText = 256
)

// Supported names the formats Import reads, for messages to people.
const Supported = "Aegis (.json), 2FAS (.2fas), andOTP, Google Authenticator transfer QR codes " +
	"(otpauth-migration:// links), Bitwarden and Bitwarden Authenticator (.json, also password-protected, or .csv), " +
	"FreeOTP+ (.json), Authenticator Pro (.json, .authpro), Ente Auth (plain text or encrypted export), " +
	"Steam Desktop Authenticator and steamguard-cli (.maFile with its manifest.json, or a zip of the maFiles folder), " +
	"WinAuth (.txt or password-protected .zip), LastPass Authenticator (.json), Proton Authenticator (.json, also password-protected), " +
	"Raivo OTP (.zip or .json), and otpauth:// links, one per line (as Authy export tools write them)"

// Errors returned by Import, for errors.Is. Their texts are written for a
// person; errors with detail add it after a colon. Reason gives that text
// without anything a caller wrapped around it.
var (
	ErrUnknownFormat = errors.New("not a file I can import")
	// ErrUnsupported: the file was recognised but cannot be imported; the
	// wrapped text names the format, says why and what to do instead.
	//lint:ignore ST1005 person-facing text, and "I" is a word
	ErrUnsupported      = errors.New("I recognise this file but cannot import it")
	ErrPasswordRequired = errors.New("this file is encrypted: I need its password")
	ErrWrongPassword    = errors.New("wrong password for this file")
	ErrTooLarge         = errors.New("the file is too large to import (at most 5 MiB and 2,000 accounts or 100 transfer QR codes at a time; split it and send the parts one by one)")
	ErrCorruptFile      = errors.New("the file is damaged or incomplete")
	// ErrSlowKDF is wrapped with ErrPasswordRequired when opening the file
	// takes seconds (Ente's 1 GiB Argon2id), so the caller can say so.
	ErrSlowKDF = errors.New("opening it takes a few seconds")
	// ErrImage: the file is a picture. The caller should look for QR codes
	// in it (core/qr) and import their text.
	ErrImage = errors.New("this is an image, not an export file: send it as a photo of the QR code")
)

// Result is what one imported file holds.
type Result struct {
	// Format names the app and variant, e.g. "Aegis (encrypted)".
	Format string
	// Keys are the accounts that could be read, in file order.
	Keys []otp.Key
	// Bad lists the entries that were skipped and why.
	Bad []Problem
	// Batch is set for a Google Authenticator transfer link: which part of
	// how many it is. The caller collects parts (by Batch.ID) across
	// messages and tells the person which are still missing.
	Batch *Batch
	// Parts lists every transfer-link part in this input when it held more
	// than one (Batch is then the first); nil otherwise.
	Parts []Batch
}

// Problem is one entry that could not be imported. Entry is safe to show: a
// position and the issuer and account name, never the secret.
type Problem struct {
	Entry  string
	Reason string
	// For translations: the entry's number (0 when Entry names a file of
	// several), its issuer and account as Entry shows them ("" when it
	// has neither), and the reason's sentence (no ID: the entry "could not
	// be read", the English detail being for the log).
	Num    int
	Label  string
	Detail Detail
}

// Batch places one Google Authenticator transfer QR code within its export.
type Batch struct {
	ID    int32 // shared by all parts of one export
	Index int   // 0-based
	Size  int   // number of parts, at least 1
}

func corrupt(format string, args ...any) *reasoned {
	return withReason(ErrCorruptFile.Error()+": "+fmt.Sprintf(format, args...), ErrCorruptFile)
}

// errSlowPassword asks for a password and says opening takes seconds.
var errSlowPassword error = withReason(ErrPasswordRequired.Error()+" ("+ErrSlowKDF.Error()+")", ErrPasswordRequired, ErrSlowKDF).with("slow_password")

func unsupported(why string) *reasoned {
	return withReason(ErrUnsupported.Error()+": "+why, ErrUnsupported)
}

func unknown(why string) *reasoned {
	return withReason(ErrUnknownFormat.Error()+": "+why+"; supported formats are "+Supported, ErrUnknownFormat)
}

// importOne reads one file that is not a zip archive.
func (im *Importer) importOne(ctx context.Context, data []byte, password string) (*Result, error) {
	if len(data) > MaxInput {
		return nil, ErrTooLarge
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM from Windows editors
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return nil, unknown("the file is empty")
	case isImage(data):
		return nil, ErrImage
	case hasPrefix(data, authProHeader):
		return importAuthProEncrypted(ctx, data, password)
	case hasPrefix(data, authProLegacyHeader):
		return importAuthProLegacy(ctx, data, password)
	}
	trimmed := bytes.TrimSpace(data)
	if trimmed[0] == '{' || trimmed[0] == '[' {
		if utf8.Valid(trimmed) {
			return im.importJSON(ctx, trimmed, password)
		}
	}
	if utf8.Valid(data) {
		if looksLikeEncryptedMaFile(data) {
			return nil, needManifest()
		}
		return importText(string(data))
	}
	// andOTP's encrypted backups are bare ciphertext with no marker: the
	// last guess, made only for binary that is long enough.
	if len(data) >= andOTPMinLen {
		return importAndOTPEncrypted(ctx, data, password)
	}
	return nil, unknown("I do not recognise its content")
}

func hasPrefix(b []byte, prefixes ...string) bool {
	for _, p := range prefixes {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

func isZip(b []byte) bool { return hasPrefix(b, "PK\x03\x04", "PK\x05\x06") }

func isImage(b []byte) bool {
	return hasPrefix(b, "\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "GIF87a", "GIF89a") ||
		(len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP")
}

// collector gathers keys and problems from one file, finishing each key
// (defaults, validation) and reporting duplicates.
type collector struct {
	res  *Result
	seen map[string]int // identity of a key -> its entry number
}

func newCollector(format string) *collector {
	return &collector{res: &Result{Format: format}, seen: map[string]int{}}
}

// bad records entry number n (1-based) as skipped; d, when given, is the
// reason for translations.
func (c *collector) bad(n int, issuer, account, reason string, d ...Detail) {
	p := Problem{Entry: entryName(n, issuer, account), Reason: reason, Num: n, Label: entryLabel(issuer, account)}
	if len(d) > 0 {
		p.Detail = d[0]
	}
	c.res.Bad = append(c.res.Bad, p)
}

// add finishes k and keeps it, or records why entry n was skipped.
func (c *collector) add(n int, k otp.Key) {
	k.Issuer = cleanText(k.Issuer)
	k.Account = cleanText(k.Account)
	p := &k.Params
	if p.Algorithm == "" {
		p.Algorithm = otp.SHA1
	}
	switch p.Kind {
	case otp.Steam:
		// Steam Guard is fixed; apps store whatever digits they like.
		p.Algorithm, p.Digits, p.Period, p.Counter = otp.SHA1, otp.SteamDigits, otp.DefaultPeriod, 0
	case otp.TOTP:
		if p.Period == 0 {
			p.Period = otp.DefaultPeriod
		}
		p.Counter = 0
	case otp.HOTP:
		p.Period = 0
	}
	if p.Digits == 0 {
		p.Digits = otp.DefaultDigits
	}
	if err := p.Validate(); err != nil {
		c.bad(n, k.Issuer, k.Account, err.Error(), Detail{ID: "bad_settings"})
		return
	}
	id := strings.ToLower(k.Issuer) + "\x00" + strings.ToLower(k.Account) + "\x00" + string(p.Kind) + "\x00" + string(p.Secret)
	if first, dup := c.seen[id]; dup {
		c.bad(n, k.Issuer, k.Account, fmt.Sprintf("the same account as entry %d", first), Detail{ID: "same_entry", Args: []any{"N", first}})
		return
	}
	c.seen[id] = n
	c.res.Keys = append(c.res.Keys, k)
}

func (c *collector) result() *Result { return c.res }

// fields are the parts of an entry that Aegis, 2FAS and andOTP spell alike.
type fields struct {
	secret, algorithm       string
	digits, period, counter num
}

// addFields completes k (its kind, issuer and name already set) from f and
// adds it, or records entry n as bad with the reason.
func (c *collector) addFields(n int, issuer, name string, k otp.Key, f fields) {
	secret, err := decodeSecret(f.secret)
	if err != nil {
		c.bad(n, issuer, name, err.Error(), Detail{ID: "bad_secret"})
		return
	}
	algo, err := parseAlgorithm(f.algorithm)
	if err != nil {
		c.bad(n, issuer, name, err.Error(), Detail{ID: "bad_settings"})
		return
	}
	k.Params.Secret, k.Params.Algorithm = secret, algo
	k.Params.Digits, k.Params.Period = f.digits.int(), f.period.int()
	if k.Params.Kind == otp.HOTP {
		if f.counter < 0 {
			c.bad(n, issuer, name, "the counter is negative", Detail{ID: "counter_negative"})
			return
		}
		k.Params.Counter = uint64(f.counter)
	}
	c.add(n, k)
}

// entryName describes entry n for a person: "entry 3 (GitHub: alice)".
func entryName(n int, issuer, account string) string {
	if l := entryLabel(issuer, account); l != "" {
		return fmt.Sprintf("entry %d (%s)", n, l)
	}
	return fmt.Sprintf("entry %d", n)
}

// entryLabel is what entryName shows of an entry besides its number.
func entryLabel(issuer, account string) string {
	issuer, account = clip(cleanText(issuer), 40), clip(cleanText(account), 40)
	if issuer != "" && account != "" {
		return issuer + ": " + account
	}
	return issuer + account
}

// cleanText makes a name from a file safe to store and show: valid UTF-8,
// no control or invisible format characters, trimmed, bounded.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	return clip(strings.TrimSpace(s), maxText)
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseAlgorithm reads an algorithm name as apps write it ("SHA1",
// "sha256", "HmacSHA512"); "" means SHA1.
func parseAlgorithm(s string) (otp.Algorithm, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	u = strings.TrimPrefix(u, "HMAC")
	u = strings.ReplaceAll(strings.ReplaceAll(u, "-", ""), "_", "")
	switch u {
	case "", "SHA1":
		return otp.SHA1, nil
	case "SHA256":
		return otp.SHA256, nil
	case "SHA512":
		return otp.SHA512, nil
	case "MD5":
		return "", errors.New("the MD5 algorithm is not supported")
	}
	return "", fmt.Errorf("unknown algorithm %q", clip(s, 20))
}

// decodeSecret reads a base32 secret from a file. Files may carry old keys
// shorter than the 80 bits otp.ParseSecret insists on for typed keys; those
// still work, so they are decoded here rather than refused.
func decodeSecret(s string) ([]byte, error) {
	b, err := otp.ParseSecret(s)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, otp.ErrSecretTooShort) {
		return nil, err
	}
	return decodeShortBase32(s)
}

// kindDetail is kindNotSupported for translations.
func kindDetail(kind string) Detail {
	return Detail{ID: "kind_unsupported", Args: []any{"Kind", kindName(kind)}}
}

// kindNotSupported is the reason an entry of another kind of code (mOTP,
// Yandex Key, ...) is skipped, for the person.
func kindNotSupported(kind string) string {
	return kindName(kind) + " codes are not supported: I make TOTP, HOTP and Steam Guard codes only, so keep this account in the app it came from"
}

func kindName(kind string) string {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "motp":
		kind = "mOTP"
	case "yandex":
		kind = "Yandex Key"
	default:
		kind = clip(cleanText(kind), 20)
	}
	return kind
}
