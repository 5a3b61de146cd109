package transfer

import (
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
	var links, migrations, ente int
	c := newCollector("")
	n := 0
	for _, line := range lines {
		line = strings.TrimSpace(line)
		lower := strings.ToLower(line)
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
