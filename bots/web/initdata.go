package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Telegram Mini App launch data (initData), checked as Telegram's docs
// ("Validating data received via the Mini App") say: the data-check-string
// is every received field but hash, as key=value, sorted by key, joined by
// "\n"; the secret key is HMAC-SHA256 of the bot token keyed by the string
// "WebAppData"; hash is the hex HMAC-SHA256 of the data-check-string keyed
// by that secret. auth_date bounds its age: the launch data is a bearer
// credential, and a stolen old one must not open the page.

// Reasons launch data is refused; never shown to the person beyond "open
// the app again".
var (
	errInitDataFormat = errors.New("launch data malformed")
	errInitDataHash   = errors.New("launch data signature wrong")
	errInitDataStale  = errors.New("launch data too old or from the future")
)

// maxInitData bounds the launch data read (a real one is well under 1 KiB).
const maxInitData = 4 << 10

// clockSkew is how far in the future auth_date may be: Telegram's clock and
// ours differ a little.
const clockSkew = time.Minute

func webAppSecret(botToken string) []byte {
	m := hmac.New(sha256.New, []byte("WebAppData"))
	m.Write([]byte(botToken))
	return m.Sum(nil)
}

// SignInitData returns launch data for fields signed with botToken, the
// way Telegram signs it: for tests and tools that play Telegram's part.
func SignInitData(botToken string, fields url.Values) string {
	v := url.Values{}
	for k, vs := range fields {
		if k != "hash" {
			v[k] = vs
		}
	}
	v.Set("hash", hex.EncodeToString(signature(webAppSecret(botToken), dataCheckString(v))))
	return v.Encode()
}

func dataCheckString(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		if k != "hash" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v.Get(k))
	}
	return b.String()
}

func signature(secret []byte, dcs string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(dcs))
	return m.Sum(nil)
}

// launchUser is the user field of launch data: who opened the app, and
// the language their Telegram app is set to.
type launchUser struct {
	ID           int64  `json:"id"`
	LanguageCode string `json:"language_code"`
}

// checkInitData verifies raw launch data and returns the Telegram user it
// was issued to.
func checkInitData(secret []byte, raw string, now time.Time, maxAge time.Duration) (launchUser, error) {
	if secret == nil || raw == "" || len(raw) > maxInitData {
		return launchUser{}, errInitDataFormat
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return launchUser{}, errInitDataFormat
	}
	for _, vs := range v {
		if len(vs) != 1 { // a repeated key would make the check string ambiguous
			return launchUser{}, errInitDataFormat
		}
	}
	got, err := hex.DecodeString(v.Get("hash"))
	if err != nil || len(got) != sha256.Size {
		return launchUser{}, errInitDataFormat
	}
	// hmac.Equal compares in constant time.
	if !hmac.Equal(got, signature(secret, dataCheckString(v))) {
		return launchUser{}, errInitDataHash
	}
	sec, err := strconv.ParseInt(v.Get("auth_date"), 10, 64)
	if err != nil {
		return launchUser{}, errInitDataFormat
	}
	at := time.Unix(sec, 0)
	if now.Sub(at) > maxAge || at.Sub(now) > clockSkew {
		return launchUser{}, errInitDataStale
	}
	var user launchUser
	if err := json.Unmarshal([]byte(v.Get("user")), &user); err != nil || user.ID <= 0 {
		return launchUser{}, errInitDataFormat
	}
	return user, nil
}

// launchLanguage is the language_code of launch data that has not been
// checked (or failed the check): only for wording a refusal, never for
// deciding who is asking.
func launchLanguage(raw string) string {
	if len(raw) > maxInitData {
		return ""
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	var user launchUser
	if json.Unmarshal([]byte(v.Get("user")), &user) != nil {
		return ""
	}
	return user.LanguageCode
}
