package transfer

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/authbot/authbot/core/otp"
	gm "github.com/authbot/authbot/core/transfer/googlemigration"
)

// Google Authenticator's "Transfer accounts" QR codes carry
// otpauth-migration://offline?data=<base64 protobuf MigrationPayload>; an
// export of many accounts is split over several codes (batch_index of
// batch_size, sharing batch_id). Digits and algorithm are enums, not values,
// and there is no period: Google only does 30 s.

const (
	migrationScheme = "otpauth-migration"
	// googleBatch is how many accounts go in one QR code, as Google does.
	googleBatch = 10
	// MaxBatchSize is the most QR codes one transfer may claim to have.
	// Google puts about 10 accounts in each, so 100 codes already hold
	// more accounts than anyone moves at once; a link claiming more is
	// hostile (batch_size is a number the sender picks, and the parts
	// still missing are listed back to them).
	MaxBatchSize = 100
)

// migrationPart is one decoded transfer link.
type migrationPart struct {
	batch Batch
	keys  []partKey
}

type partKey struct {
	key    otp.Key
	reason string // set when the entry cannot be used
}

// parseMigration decodes one otpauth-migration:// link.
func parseMigration(link string) (*migrationPart, error) {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || !strings.EqualFold(u.Scheme, migrationScheme) {
		return nil, corrupt("the transfer link is damaged").with("link_damaged")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, corrupt("the transfer link is damaged").with("link_damaged")
	}
	data := q.Get("data")
	if data == "" {
		return nil, corrupt("the transfer link has no data")
	}
	// Query decoding turns an unescaped '+' of the base64 into a space.
	data = strings.ReplaceAll(data, " ", "+")
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(data); err == nil {
			break
		}
	}
	if err != nil {
		return nil, corrupt("the transfer link's data is not valid base64")
	}
	var payload gm.MigrationPayload
	if err := proto.Unmarshal(raw, &payload); err != nil {
		return nil, corrupt("the transfer link's data is not a Google Authenticator export")
	}
	params := payload.GetOtpParameters()
	if len(params) > MaxEntries {
		return nil, ErrTooLarge
	}
	if size := payload.GetBatchSize(); size > MaxBatchSize || int(size)*googleBatch > MaxEntries {
		return nil, corrupt("the transfer link says it is one of %d QR codes; Google Authenticator makes at most %d", size, MaxBatchSize).with("too_many_parts", "Size", size, "Max", MaxBatchSize)
	}
	part := &migrationPart{batch: Batch{ID: payload.GetBatchId(), Index: int(payload.GetBatchIndex()), Size: int(payload.GetBatchSize())}}
	if part.batch.Size < 1 || part.batch.Index < 0 || part.batch.Index >= part.batch.Size {
		// Old exports leave the batch fields out: a single code.
		part.batch = Batch{ID: payload.GetBatchId(), Index: 0, Size: 1}
	}
	for _, p := range params {
		part.keys = append(part.keys, migrationKey(p))
	}
	return part, nil
}

func migrationKey(p *gm.MigrationPayload_OtpParameters) partKey {
	var k otp.Key
	k.Issuer = p.GetIssuer()
	k.Account = p.GetName()
	// Google writes the label as "Issuer:account" into name.
	if pre, rest, ok := strings.Cut(k.Account, ":"); ok {
		if k.Issuer == "" || strings.EqualFold(strings.TrimSpace(pre), strings.TrimSpace(k.Issuer)) {
			if k.Issuer == "" {
				k.Issuer = strings.TrimSpace(pre)
			}
			k.Account = strings.TrimSpace(rest)
		}
	}
	bad := func(reason string) partKey { return partKey{key: k, reason: reason} }
	switch p.GetType() {
	case gm.MigrationPayload_OTP_TYPE_TOTP, gm.MigrationPayload_OTP_TYPE_UNSPECIFIED:
		k.Params.Kind = otp.TOTP
		k.Params.Period = otp.DefaultPeriod
	case gm.MigrationPayload_OTP_TYPE_HOTP:
		k.Params.Kind = otp.HOTP
		if p.GetCounter() < 0 {
			return bad("the counter is negative")
		}
		k.Params.Counter = uint64(p.GetCounter())
	default:
		return bad(fmt.Sprintf("unknown kind of code (%d)", p.GetType()))
	}
	switch p.GetAlgorithm() {
	case gm.MigrationPayload_ALGORITHM_SHA1, gm.MigrationPayload_ALGORITHM_UNSPECIFIED:
		k.Params.Algorithm = otp.SHA1
	case gm.MigrationPayload_ALGORITHM_SHA256:
		k.Params.Algorithm = otp.SHA256
	case gm.MigrationPayload_ALGORITHM_SHA512:
		k.Params.Algorithm = otp.SHA512
	case gm.MigrationPayload_ALGORITHM_MD5:
		return bad("the MD5 algorithm is not supported")
	default:
		return bad(fmt.Sprintf("unknown algorithm (%d)", p.GetAlgorithm()))
	}
	switch p.GetDigits() {
	case gm.MigrationPayload_DIGIT_COUNT_SIX, gm.MigrationPayload_DIGIT_COUNT_UNSPECIFIED:
		k.Params.Digits = 6
	case gm.MigrationPayload_DIGIT_COUNT_EIGHT:
		k.Params.Digits = 8
	default:
		return bad(fmt.Sprintf("unknown number of digits (%d)", p.GetDigits()))
	}
	if len(p.GetSecret()) == 0 {
		return bad("the entry has no secret")
	}
	k.Params.Secret = append([]byte(nil), p.GetSecret()...)
	return partKey{key: k}
}

// GoogleMigrationURIs returns keys as Google Authenticator transfer links,
// one per QR code, about 10 accounts each, all sharing a random batch id
// (version 1, batch_index and batch_size set). Keys Google cannot represent
// (Steam Guard, digits other than 6 or 8, periods other than 30 s) are left
// out and returned as skipped. A key failing validation is an error.
func GoogleMigrationURIs(keys []otp.Key) (uris []string, skipped []otp.Key, err error) {
	var fit []*gm.MigrationPayload_OtpParameters
	for i, k := range keys {
		p := k.Params
		if err := p.Validate(); err != nil {
			return nil, nil, fmt.Errorf("google migration: key %d: %w", i+1, err)
		}
		if GoogleUnsupported(p) != "" {
			skipped = append(skipped, k)
			continue
		}
		op := &gm.MigrationPayload_OtpParameters{
			Secret: append([]byte(nil), p.Secret...),
			Name:   k.Account,
			Issuer: k.Issuer,
			Digits: gm.MigrationPayload_DIGIT_COUNT_SIX,
		}
		if k.Issuer != "" {
			// Google shows the name field; it writes "Issuer:account".
			op.Name = k.Issuer + ":" + k.Account
		}
		if p.Digits == 8 {
			op.Digits = gm.MigrationPayload_DIGIT_COUNT_EIGHT
		}
		switch p.Algorithm {
		case otp.SHA256:
			op.Algorithm = gm.MigrationPayload_ALGORITHM_SHA256
		case otp.SHA512:
			op.Algorithm = gm.MigrationPayload_ALGORITHM_SHA512
		default:
			op.Algorithm = gm.MigrationPayload_ALGORITHM_SHA1
		}
		if p.Kind == otp.HOTP {
			op.Type = gm.MigrationPayload_OTP_TYPE_HOTP
			op.Counter = int64(p.Counter)
		} else {
			op.Type = gm.MigrationPayload_OTP_TYPE_TOTP
		}
		fit = append(fit, op)
	}
	if len(fit) == 0 {
		return nil, skipped, nil
	}
	var idb [4]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, nil, fmt.Errorf("google migration: random batch id: %w", err)
	}
	batchID := int32(binary.BigEndian.Uint32(idb[:]) & 0x7fffffff)
	size := (len(fit) + googleBatch - 1) / googleBatch
	for i := 0; i < size; i++ {
		end := min((i+1)*googleBatch, len(fit))
		payload := &gm.MigrationPayload{
			OtpParameters: fit[i*googleBatch : end],
			Version:       1,
			BatchSize:     int32(size),
			BatchIndex:    int32(i),
			BatchId:       batchID,
		}
		b, err := proto.Marshal(payload)
		if err != nil {
			return nil, nil, fmt.Errorf("google migration: %w", err)
		}
		uris = append(uris, migrationScheme+"://offline?data="+url.QueryEscape(base64.StdEncoding.EncodeToString(b)))
	}
	return uris, skipped, nil
}

// GoogleUnsupported says what about p Google Authenticator cannot hold, as
// words that complete "Google Authenticator cannot hold …" (e.g. "Steam
// Guard codes"), or "" when it can.
func GoogleUnsupported(p otp.Params) string {
	switch {
	case p.Kind == otp.Steam:
		return "Steam Guard codes"
	case p.Kind == otp.HOTP && p.Counter > 1<<63-1:
		return "a counter that large"
	case p.Digits != 6 && p.Digits != 8:
		return fmt.Sprintf("%d-digit codes", p.Digits)
	case p.Kind == otp.TOTP && p.Period != otp.DefaultPeriod:
		return fmt.Sprintf("codes that change every %d seconds", p.Period)
	}
	return ""
}
