package transfer

import (
	"context"
	"encoding/base64"
	"net/url"
	"testing"
)

// FuzzParseMigration has no seeds on purpose: it must find the review's
// poison pill (a tiny payload claiming a huge batch_size, whose "missing
// parts" list ran the bot out of memory) on its own. Whatever the payload,
// an accepted link must claim a bounded number of parts and entries.
func FuzzParseMigration(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		link := "otpauth-migration://offline?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(payload))
		res, err := Import(context.Background(), []byte(link), "")
		if err != nil {
			return
		}
		if res.Batch == nil || res.Batch.Size < 1 || res.Batch.Size > 100 {
			t.Fatalf("accepted a transfer link of %+v parts (at most 100 are possible)", res.Batch)
		}
		if n := len(res.Keys) + len(res.Bad); n > 2000 {
			t.Fatalf("accepted %d entries", n)
		}
	})
}

// reviewPoisonLink is 63 bytes: version 1, batch_size 2^31-1, index 0,
// batch id -1, no accounts.
const reviewPoisonLink = "otpauth-migration://offline?data=EAEY/////4cAIAAo////////////AQ"

// TestMigrationBatchSizeBounded is the review's 63-byte link (batch_size
// 2^31-1, index 0, no accounts) and its moderate variant (1e6): refused
// with a reason, not accepted as one part of millions.
func TestMigrationBatchSizeBounded(t *testing.T) {
	cases := map[string]string{
		"the review's 63 bytes": reviewPoisonLink,
		"2^31-1":                "otpauth-migration://offline?data=" + base64.StdEncoding.EncodeToString([]byte{0x18, 0xff, 0xff, 0xff, 0xff, 0x07, 0x20, 0x00, 0x28, 0x01}),
		"1e6":                   "otpauth-migration://offline?data=" + base64.StdEncoding.EncodeToString([]byte{0x18, 0xc0, 0x84, 0x3d, 0x20, 0x00}),
		"101":                   "otpauth-migration://offline?data=" + base64.StdEncoding.EncodeToString([]byte{0x18, 101, 0x20, 0x00}),
	}
	for name, link := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Import(context.Background(), []byte(link), "")
			if err == nil {
				t.Fatalf("accepted: batch %+v", res.Batch)
			}
		})
	}
	// 100 parts is still a real (if huge) export.
	link := "otpauth-migration://offline?data=" + base64.StdEncoding.EncodeToString([]byte{0x18, 100, 0x20, 0x05})
	res, err := Import(context.Background(), []byte(link), "")
	if err != nil || res.Batch == nil || res.Batch.Size != 100 || res.Batch.Index != 5 {
		t.Fatalf("100 parts: %+v, %v", res, err)
	}
}
