//go:build goolm

package matrix

import (
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
)

// BenchmarkEncryptedRoundTrip measures one encrypted message from the person
// to the decrypted reply, through the real Dendrite on loopback (the
// handler is a fake: this is the transport's cost, not the commands').
func BenchmarkEncryptedRoundTrip(b *testing.B) {
	h := needHomeserver(b)
	alice, bot, room := dmWithBot(b, h, &fakeHandler{}, true, "trusted_private_chat")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		text := fmt.Sprintf("ping %d", i)
		since := time.Now()
		alice.Send(room, text)
		alice.Wait("reply", func(evt *event.Event) bool {
			return replyFrom(room, bot.id(), since)(evt) && evt.Content.AsMessage().Body == "ok: "+text
		})
	}
}
