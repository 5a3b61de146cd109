package transfer

import (
	"net/url"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// importText reads text with one link per line: otpauth:// links (Ente
// Auth's plain export, Aegis's and Authenticator Pro's URI lists, anything
// copied by hand) and otpauth-migration:// transfer links. A Bitwarden CSV
// is text too and is recognised by its header.
func importText(text string) (*Result, error) {
	if looksLikeBitwardenCSV(text) {
		return importBitwardenCSV(text)
	}
	lines := strings.Split(text, "\n")
	var links, migrations, ente, winauth int
	c := newCollector("")
	n := 0
	for _, line := range lines {
		line = strings.TrimSpace(line)
		lower := strings.ToLower(line)
		if i := strings.Index(lower, "otpauth://"); i > 0 {
			// A link inside a line: "Name: otpauth://..." or a CSV
			// column, as Authy export tools and hand-made lists have it.
			line = embeddedLink(line[i:])
			lower = strings.ToLower(line)
		}
		switch {
		case strings.HasPrefix(lower, "otpauth://"):
			links++
			n++
			if n > MaxEntries {
				return nil, ErrTooLarge
			}
			if strings.Contains(line, "codeDisplay=") {
				ente++ // Ente Auth adds its display settings to each link
			}
			if k, reason, ok := winAuthSteam(line); ok {
				winauth++
				if reason != "" {
					c.bad(n, k.Issuer, k.Account, reason)
					continue
				}
				c.add(n, k)
				continue
			}
			k, err := otp.ParseURI(line)
			if err != nil {
				c.bad(n, "", "", err.Error())
				continue
			}
			c.add(n, k)
		case strings.HasPrefix(lower, migrationScheme+"://"):
			migrations++
			if migrations > MaxBatchSize {
				// Each part is remembered until the others arrive.
				return nil, ErrTooLarge
			}
			part, err := parseMigration(line)
			if err != nil {
				return nil, err
			}
			c.res.Parts = append(c.res.Parts, part.batch)
			for _, pk := range part.keys {
				n++
				if n > MaxEntries {
					return nil, ErrTooLarge
				}
				if pk.reason != "" {
					c.bad(n, pk.key.Issuer, pk.key.Account, pk.reason)
					continue
				}
				c.add(n, pk.key)
			}
		}
	}
	res := c.result()
	switch {
	case links == 0 && migrations == 0:
		return nil, unknown("I found no otpauth:// link in this text")
	case migrations > 0 && links == 0:
		res.Format = "Google Authenticator transfer"
	case winauth > 0:
		res.Format = "WinAuth"
	case ente == links && migrations == 0:
		res.Format = "Ente Auth (plain text)"
	default:
		res.Format = "otpauth:// links"
	}
	if len(res.Parts) > 0 {
		res.Batch = &res.Parts[0]
		if len(res.Parts) == 1 {
			res.Parts = nil
		}
	}
	return res, nil
}

// embeddedLink cuts a link found inside a line at the first character
// that cannot be part of it (space, quote, bracket) and drops a trailing
// comma or semicolon of a list.
func embeddedLink(s string) string {
	if i := strings.IndexAny(s, " \t\"'<>`()[]{}"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, ",;")
}

// winAuthSteam reads a Steam line of WinAuth's text export:
//
//	otpauth://totp/Steam:NAME?secret=...&digits=5&issuer=Steam&deviceid=...&data=<URL-encoded maFile JSON>
//
// The JSON in data= holds the real shared_secret; secret= may be a
// placeholder (steamguard-cli's sample has secret=ASDF), so data= wins and
// secret= is read only when data= has no secret. ok is false for any other
// line.
func winAuthSteam(line string) (k otp.Key, reason string, ok bool) {
	u, err := url.Parse(line)
	if err != nil {
		return otp.Key{}, "", false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return otp.Key{}, "", false
	}
	data, hasData := q["data"]
	_, hasDevice := q["deviceid"]
	if !hasData && !hasDevice {
		return otp.Key{}, "", false
	}
	k = otp.Key{Issuer: "Steam", Params: otp.Default(otp.Steam)}
	label, _ := url.PathUnescape(strings.TrimPrefix(u.Path, "/"))
	if i := strings.Index(label, ":"); i >= 0 {
		label = label[i+1:]
	}
	k.Account = strings.TrimSpace(label)
	if hasData && len(data[0]) > 0 {
		raw := []byte(data[0])
		if checkJSON(raw) != nil {
			return k, "its Steam data is not valid JSON", true
		}
		key, name, why := steamKey(raw)
		if why == "" {
			if name != "" {
				key.Account = name
			}
			return key, "", true
		}
		if !strings.Contains(why, "no shared_secret") {
			return k, why, true
		}
	}
	secret, err := decodeSecret(q.Get("secret"))
	if err != nil {
		return k, err.Error(), true
	}
	k.Params.Secret = secret
	return k, "", true
}
