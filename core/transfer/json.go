package transfer

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// checkJSON scans data once, token by token, before any decoding into Go
// values: it refuses nesting deeper than maxDepth (a stack and memory bomb
// for a recursive decoder) and tells a truncated file from a malformed one.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if depth != 0 {
				return corrupt("the JSON ends too early (the file is probably truncated)").with("truncated")
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return corrupt("the JSON ends too early (the file is probably truncated)").with("truncated")
			}
			return corrupt("not valid JSON").with("not_json")
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				if depth > maxDepth {
					return corrupt("the JSON is nested more than %d levels deep", maxDepth)
				}
			case '}', ']':
				depth--
			}
		}
	}
}

// num is a JSON number that some apps write as a string ("6") and others
// leave null; both are read, null and "" as 0.
type num int64

func (n *num) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*n = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = strings.TrimSpace(str)
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// 30.0 is a number too.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("not a whole number: %q", clip(s, 20))
		}
		v = int64(f)
	}
	*n = num(v)
	return nil
}

// int returns n as an int for digits and periods, mapping values outside
// int32 to -1 so that validation refuses them instead of wrapping.
func (n num) int() int {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return -1
	}
	return int(n)
}

// str is a JSON string that may also be null or a number.
type str string

func (s *str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = str(v)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = str(b)
	default:
		return errors.New("not a string")
	}
	return nil
}

// entryError turns a JSON decoding error of one entry into a reason that
// names the field but never echoes values (which could be a secret).
func entryError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("the field %q has the wrong type", clip(te.Field, 40))
	}
	return "the entry is not in the expected form"
}

// decodeEntries splits a JSON array into its elements, refusing more than
// MaxEntries.
func decodeEntries(raw json.RawMessage) ([]json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, corrupt("the list of accounts is not a JSON array")
	}
	if len(list) > MaxEntries {
		return nil, ErrTooLarge
	}
	return list, nil
}

func decodeShortBase32(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '-', '=':
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
	if s == "" {
		return nil, errors.New("no backup key given")
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, errors.New("not a base32 backup key")
	}
	return b, nil
}

// importJSON recognises a JSON export by its keys.
func (im *Importer) importJSON(ctx context.Context, data []byte, password string) (*Result, error) {
	if err := checkJSON(data); err != nil {
		return nil, err
	}
	if data[0] == '[' {
		if isRaivo(data) {
			return importRaivo(data)
		}
		return importAndOTPPlain(data)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, corrupt("not valid JSON").with("not_json")
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := top[k]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("shared_secret"):
		return importSteamMaFile(data)
	case has("header", "db"):
		return importAegis(ctx, top, password)
	case has("servicesEncrypted"), has("services", "schemaVersion"):
		return import2FAS(ctx, top, password)
	case has("Authenticators"):
		return importAuthProJSON(top, "Authenticator Pro")
	case has("tokens"):
		return importFreeOTPPlus(top)
	case has("passwordProtected", "data") && isBitwardenProtected(top):
		return im.importBitwardenProtected(ctx, top, password)
	case has("items"):
		return importBitwardenJSON(top)
	case has("kdfParams", "encryptedData"):
		return im.importEnteEncrypted(ctx, data, password)
	case has("services"):
		return import2FAS(ctx, top, password)
	case has("entries") && isProtonEntries(top["entries"]):
		return importProton(top)
	case has("version", "salt", "content") && !has("entries"):
		return importProtonEncrypted(ctx, top, password)
	case has("entries"):
		m, ok, err := parseSteamManifest(top)
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, m.needFiles()
		}
	case has("accounts"):
		if raw := bytes.TrimSpace(top["accounts"]); len(raw) > 0 && raw[0] == '{' {
			return importSteamAccounts(raw)
		}
		if isLastPass(top["accounts"]) {
			return importLastPass(top)
		}
	}
	return nil, unknown("this JSON file is not an export I know")
}
