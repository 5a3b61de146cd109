package telegram_test

import (
	"encoding/base32"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// BenchmarkCodeLatency measures update-to-reply latency of /code through
// the fake Bot API against the real `authbot serve` subprocess, with 100
// people sending at once, each with 50 accounts. One iteration is one round
// of 100 concurrent /code requests. It reports p50/p99 of the time from the
// update being queued at the fake to the sendMessage arriving there, and
// the subprocess's peak RSS (VmHWM from /proc/<pid>/status).
//
// Measured on the 2-core build machine while other builds ran (load ~13):
// burst p50 57 ms / p99 117 ms (100 requests queued at once: the median
// one waits for ~50 others, ~1 ms each including the fake's own HTTP work);
// spread2ms p50 2.7 ms / p99 42 ms; peak RSS 26 MB.
func BenchmarkCodeLatency(b *testing.B) {
	const people, accounts = 100, 50
	api := telegramtest.New(token)
	defer api.Close()
	api.LongPoll = time.Second
	dir := b.TempDir()
	p := startServe(b, writeConfig(b, dir, api.URL(), people, "2m"))
	e := e2eB{b, api}

	// Seed: each person sends a text file of 50 otpauth links, handled
	// concurrently like everything else.
	n := api.NumCalls()
	for i := range people {
		id := int64(2001 + i)
		var links strings.Builder
		for j := range accounts {
			secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(fmt.Sprintf("person%03dacct%03d!", i, j)))
			fmt.Fprintf(&links, "otpauth://totp/Acct%02d:p%d?secret=%s&issuer=Acct%02d\n", j, i, secret, j)
		}
		api.SendDocument(telegramtest.Private(id), telegramtest.User{ID: id}, "links.txt", "text/plain", []byte(links.String()), "")
	}
	e.replies(n, people)
	n = api.NumCalls()
	api.SendText(telegramtest.Private(2001), telegramtest.User{ID: 2001}, "/list")
	if c := e.replies(n, 1)[2001]; !strings.Contains(c.Fields["text"], fmt.Sprintf("(%d)", accounts)) {
		b.Fatalf("seeding failed: %q", c.Fields["text"])
	}

	// burst: all 100 send in the same instant (the worst case: the last
	// one waits for 99 others on 2 cores); spread: the 100 requests of a
	// round arrive 2 ms apart, like people sending at busy times.
	for _, mode := range []struct {
		name string
		gap  time.Duration
	}{{"burst", 0}, {"spread2ms", 2 * time.Millisecond}} {
		b.Run(mode.name, func(b *testing.B) {
			var lat []time.Duration
			for it := 0; it < b.N; it++ {
				n := api.NumCalls()
				sent := make(map[int64]time.Time, people)
				for i := range people {
					if mode.gap > 0 && i > 0 {
						time.Sleep(mode.gap) // the load pattern, not time logic
					}
					id := int64(2001 + i)
					sent[id] = time.Now()
					api.SendText(telegramtest.Private(id), telegramtest.User{ID: id}, fmt.Sprintf("/code acct%02d", (i+it)%accounts))
				}
				for id, c := range e.replies(n, people) {
					if !codeRE.MatchString(c.Fields["text"]) {
						b.Fatalf("no code in reply to %d: %q", id, c.Fields["text"])
					}
					lat = append(lat, c.At.Sub(sent[id]))
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(q float64) float64 {
				return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(vmHWM(p.Cmd.Process.Pid))/1024, "RSS-peak-MB")
		})
	}
}

type e2eB struct {
	b   *testing.B
	api *telegramtest.Server
}

// replies waits for one successful sendMessage per chat from `want` chats
// after call index after, and returns the first one of each.
func (e e2eB) replies(after, want int) map[int64]telegramtest.Call {
	got := map[int64]telegramtest.Call{}
	for len(got) < want {
		c, i, ok := e.api.WaitCall(after, 60*time.Second, telegramtest.Method("sendMessage", 0))
		if !ok {
			e.b.Fatalf("only %d of %d replies came", len(got), want)
		}
		after = i + 1
		id, _ := strconv.ParseInt(c.Fields["chat_id"], 10, 64)
		if _, dup := got[id]; !dup {
			got[id] = c
		}
	}
	return got
}
