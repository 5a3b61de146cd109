//go:build goolm

package matrix

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"
)

// Numbered choices.
//
// Matrix has no inline buttons. A reply's buttons are shown as numbered
// options (render.go), and the adapter remembers, for the person it sent
// them to in that room, what each number stands for: the button's command
// line, which the person never sees (it may hold an account id). The
// person answers with the number alone ("1"), or reacts to the message
// with a keycap emoji (1️⃣). A set of options holds for choiceTTL, for that
// person only, and only the newest message's options count: any later
// reply to the person replaces or clears them, so a "1" typed after some
// other exchange is not read as an old choice.

// choiceTTL is how long numbered options can be answered.
const choiceTTL = 5 * time.Minute

// maxChoiceSets bounds memory: one set per person and room is kept, and
// expired sets are dropped whenever a new one is offered.
const maxChoiceSets = 10000

type choiceKey struct {
	room id.RoomID
	user id.UserID
}

type choiceSet struct {
	event   id.EventID // the message that shows the options
	data    []string   // the command line behind option i+1
	expires time.Time
}

// choices holds the open option sets. The zero value is not usable; use
// newChoices.
type choices struct {
	mu sync.Mutex
	m  map[choiceKey]choiceSet
}

func newChoices() *choices { return &choices{m: map[choiceKey]choiceSet{}} }

// offer records the options shown to user in room by evt, replacing any
// earlier ones; no data clears them.
func (c *choices) offer(room id.RoomID, user id.UserID, evt id.EventID, data []string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := choiceKey{room, user}
	if len(data) == 0 || evt == "" {
		delete(c.m, k)
		return
	}
	for key, s := range c.m {
		if !now.Before(s.expires) {
			delete(c.m, key)
		}
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= maxChoiceSets {
		return // a flood of rooms: new options are not kept, old ones stay valid
	}
	c.m[k] = choiceSet{event: evt, data: data, expires: now.Add(choiceTTL)}
}

// pick returns the command behind option n (1-based) for user in room and
// uses the set up. If evt is not empty (a reaction), it must be the
// message that showed the options.
func (c *choices) pick(room id.RoomID, user id.UserID, evt id.EventID, n int, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := choiceKey{room, user}
	s, ok := c.m[k]
	if !ok || !now.Before(s.expires) || n < 1 || n > len(s.data) || (evt != "" && evt != s.event) {
		return "", false
	}
	delete(c.m, k)
	return s.data[n-1], true
}

// optionNumber reads a message that is only an option number: "2", "2."
// or "2)". It returns 0 for anything else.
func optionNumber(text string) int {
	s := strings.TrimSpace(text)
	s = strings.TrimRight(s, ".)")
	if len(s) == 0 || len(s) > 2 {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// reactionNumber reads a keycap reaction: "1️⃣" (digit, VS16, U+20E3),
// the same without VS16, or "🔟". It returns 0 for any other key.
func reactionNumber(key string) int {
	if key == "🔟" {
		return 10
	}
	s := strings.TrimSuffix(key, "\u20e3")
	if s == key {
		return 0
	}
	s = strings.TrimSuffix(s, "\ufe0f")
	if len(s) != 1 || s[0] < '1' || s[0] > '9' {
		return 0
	}
	return int(s[0] - '0')
}
