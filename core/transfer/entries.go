package transfer

import (
	"encoding/json"
	"strings"

	"github.com/authbot/authbot/core/otp"
)

// eachEntry is the one entry loop of the JSON importers: it reads every
// raw entry into a fresh T and hands it to add with its 1-based number,
// and records an entry of the wrong shape as bad, so one broken entry
// never costs the others.
func eachEntry[T any](c *collector, list []json.RawMessage, add func(n int, e *T)) {
	for i, raw := range list {
		n := i + 1
		var e T
		if err := json.Unmarshal(raw, &e); err != nil {
			c.bad(n, "", "", entryError(err))
			continue
		}
		add(n, &e)
	}
}

// parseKind reads a kind of code as the apps spell it, in any case:
// "totp", "HOTP", "Steam"; "" is TOTP, every app's default. ok is false
// for any other kind (mOTP, Yandex…): the caller says why it is skipped.
func parseKind(s string) (kind otp.Kind, ok bool) {
	switch strings.ToUpper(s) {
	case "", "TOTP":
		return otp.TOTP, true
	case "HOTP":
		return otp.HOTP, true
	case "STEAM":
		return otp.Steam, true
	}
	return "", false
}
