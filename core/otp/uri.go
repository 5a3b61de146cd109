package otp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxURILen bounds an otpauth:// link before any parsing. Real links are
// about 100–250 bytes; a long issuer and account still fit many times over.
const MaxURILen = 4096

// ErrNotOTPAuth is wrapped by the *URIError for text that is not an
// otpauth:// link at all, so a caller can try another parser.
var ErrNotOTPAuth = errors.New("not an otpauth:// link")

// URIError says what is wrong with an otpauth:// link, in words a person can
// read. Err, when set, is ErrNotOTPAuth, a *SecretError or a *ParamsError.
type URIError struct {
	Reason string
	Err    error
}

func (e *URIError) Error() string { return e.Reason }
func (e *URIError) Unwrap() error { return e.Err }

func uriErr(format string, args ...any) *URIError {
	return &URIError{Reason: fmt.Sprintf(format, args...)}
}

// ParseURI reads an otpauth:// link as described by Google's Key URI
// Format: otpauth://TYPE/LABEL?PARAMS with TYPE totp, hotp or steam, and
// LABEL "Issuer:account" (':' or %3A, spaces around either part trimmed).
// The issuer parameter wins over the label's prefix when both are present;
// the prefix is then dropped from the account either way. encoder=steam on a
// totp link means Steam Guard (Aegis and Steam tools write that). Missing
// parameters take the usual defaults (SHA1, 6 digits, 30 s, counter 0);
// everything present must be valid, and the secret must pass ParseSecret.
// Errors are *URIError.
func ParseURI(s string) (Key, error) {
	if len(s) > MaxURILen {
		return Key{}, uriErr("the link is too long (more than %d characters)", MaxURILen)
	}
	s = strings.TrimSpace(s)
	const scheme = "otpauth://"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		reason := "not an otpauth:// link"
		if len(s) >= len("otpauth-migration:") && strings.EqualFold(s[:len("otpauth-migration:")], "otpauth-migration:") {
			reason = "an otpauth-migration:// link (a Google Authenticator export), not a single otpauth:// link"
		}
		return Key{}, &URIError{Reason: reason, Err: ErrNotOTPAuth}
	}
	if !utf8.ValidString(s) {
		return Key{}, uriErr("the link is damaged: it is not valid UTF-8")
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil {
		return Key{}, uriErr("the link is damaged: it is not a well-formed URL")
	}

	q, err := parseQuery(u.RawQuery)
	if err != nil {
		return Key{}, err
	}

	var kind Kind
	switch strings.ToLower(u.Host) {
	case "totp":
		kind = TOTP
	case "hotp":
		kind = HOTP
	case "steam":
		kind = Steam
	default:
		return Key{}, uriErr("unknown kind of one-time password %q in the link (expected totp, hotp or steam)", clip(u.Host))
	}
	switch enc := q["encoder"]; {
	case enc == "":
	case strings.EqualFold(enc, "steam"):
		if kind == HOTP {
			return Key{}, uriErr("the link asks for Steam codes on a counter (hotp) key; Steam Guard codes are time-based")
		}
		kind = Steam
	default:
		return Key{}, uriErr("unknown encoder %q in the link (only steam is known)", clip(enc))
	}

	k := Key{Params: Default(kind)}
	if err := k.parseLabel(u.Path, q); err != nil {
		return Key{}, err
	}

	secret, ok := q["secret"]
	if !ok || strings.TrimSpace(secret) == "" {
		return Key{}, uriErr("the link has no secret")
	}
	k.Params.Secret, err = ParseSecret(secret)
	if err != nil {
		var se *SecretError
		errors.As(err, &se)
		return Key{}, &URIError{Reason: "the secret in the link does not work: " + se.Reason, Err: err}
	}

	// Steam Guard is fixed at SHA1, 5 characters, 30 s whatever a link
	// says: tools differ in what they write there.
	if kind != Steam {
		if err := k.Params.parseNumbers(q); err != nil {
			return Key{}, err
		}
	}
	if err := k.Params.Validate(); err != nil {
		return Key{}, &URIError{Reason: "the link is not usable: " + err.Error(), Err: err}
	}
	return k, nil
}

// parseQuery splits a raw query by hand rather than with url.ParseQuery:
// that one turns '+' into a space, which would silently drop a character
// from a secret, and it keeps the last of repeated parameters, where a link
// with two secrets must be refused. Names are matched without case.
func parseQuery(raw string) (map[string]string, error) {
	q := make(map[string]string)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return nil, uriErr("the link is damaged: a parameter name has a bad %% escape")
		}
		name = strings.ToLower(name)
		unescape := url.QueryUnescape
		if name == "secret" {
			unescape = url.PathUnescape // keep '+': it is never part of base32
		}
		v, err := unescape(value)
		if err != nil {
			return nil, uriErr("the link is damaged: the %q parameter has a bad %% escape", clip(name))
		}
		switch name {
		case "secret", "issuer", "algorithm", "digits", "period", "counter", "encoder":
			if _, dup := q[name]; dup {
				return nil, uriErr("the link has the %s parameter twice", name)
			}
			q[name] = v
		}
	}
	return q, nil
}

// parseLabel fills Issuer and Account from the path and the issuer
// parameter, following the Key URI Format's precedence.
func (k *Key) parseLabel(path string, q map[string]string) error {
	label := strings.TrimPrefix(path, "/")
	prefix, account, hasPrefix := strings.Cut(label, ":")
	if !hasPrefix {
		prefix, account = "", label
	}
	k.Issuer = strings.TrimSpace(prefix)
	k.Account = strings.TrimSpace(account)
	if issuer, ok := q["issuer"]; ok && strings.TrimSpace(issuer) != "" {
		k.Issuer = strings.TrimSpace(issuer)
	}
	if err := checkName("issuer", k.Issuer); err != nil {
		return err
	}
	return checkName("account name", k.Account)
}

// checkName refuses names that would carry invisible or control characters
// into a chat reply or a log line.
func checkName(what, s string) error {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return uriErr("the %s in the link contains an invisible or control character (%+q)", what, r)
		}
	}
	return nil
}

// parseNumbers reads algorithm, digits, period and counter for TOTP/HOTP.
func (p *Params) parseNumbers(q map[string]string) error {
	if a, ok := q["algorithm"]; ok {
		switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(a), "-", "")) {
		case "SHA1":
			p.Algorithm = SHA1
		case "SHA256":
			p.Algorithm = SHA256
		case "SHA512":
			p.Algorithm = SHA512
		default:
			if strings.EqualFold(strings.TrimSpace(a), "MD5") {
				return uriErr("the link asks for the MD5 algorithm, which is not supported (expected SHA1, SHA256 or SHA512)")
			}
			return uriErr("the link asks for an unknown algorithm %q (expected SHA1, SHA256 or SHA512)", clip(a))
		}
	}
	if d, ok := q["digits"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil || n < MinDigits || n > MaxDigits {
			return uriErr("codes must have 6, 7 or 8 digits (the link says %q)", clip(d))
		}
		p.Digits = n
	}
	if p.Kind == TOTP {
		if v, ok := q["period"]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 || n > MaxPeriod {
				return uriErr("the period must be a whole number of seconds from 1 to %d (the link says %q)", MaxPeriod, clip(v))
			}
			p.Period = n
		}
	}
	if p.Kind == HOTP {
		if v, ok := q["counter"]; ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return uriErr("the counter must be a whole number from 0 (the link says %q)", clip(v))
			}
			p.Counter = n
		}
	}
	return nil
}

// URI returns k as a canonical otpauth:// link that ParseURI reads back to
// the same Key: the issuer both in the label and as a parameter (the label
// for old apps, the parameter for the spec), the secret as unpadded base32,
// and every parameter spelt out. Steam keys come out as
// otpauth://totp/…&encoder=steam, the form Aegis and Steam tools export.
// The link carries the secret: treat it like one.
func (k Key) URI() string {
	p := k.Params
	host := string(p.Kind)
	if p.Kind == Steam {
		host = string(TOTP)
	}

	// The label prefix cannot hold a ':' (it would split there); such an
	// issuer goes in the parameter only. An account with a ':' and no
	// issuer gets an empty prefix, so its own ':' is not taken for one.
	var label string
	prefix := k.Issuer
	if strings.Contains(prefix, ":") {
		prefix = ""
	}
	if prefix != "" || k.Issuer != "" || strings.Contains(k.Account, ":") {
		label = escape(prefix) + ":" + escape(k.Account)
	} else {
		label = escape(k.Account)
	}

	var b strings.Builder
	b.WriteString("otpauth://")
	b.WriteString(host)
	b.WriteByte('/')
	b.WriteString(label)
	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(p.Secret))
	if k.Issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(k.Issuer))
	}
	b.WriteString("&algorithm=")
	b.WriteString(escape(string(p.Algorithm)))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(p.Digits))
	if p.Kind == HOTP {
		b.WriteString("&counter=")
		b.WriteString(strconv.FormatUint(p.Counter, 10))
	} else {
		b.WriteString("&period=")
		b.WriteString(strconv.Itoa(p.Period))
	}
	if p.Kind == Steam {
		b.WriteString("&encoder=steam")
	}
	return b.String()
}

// escape percent-encodes everything but unreserved characters and '@', so
// the text reads the same in a path and in a query, ':' never splits a
// label, '+' is never taken for a space, and spaces come out as %20 as the
// Key URI Format asks.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
