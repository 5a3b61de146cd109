//go:build goolm

package matrix

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// protect runs fn and recovers a panic in it, as the Telegram dispatcher
// does: one bad message must not take the bot (and every room's worker)
// down. A runtime error names code, not message contents; any other panic
// value might quote what a person sent, so only its type is logged. The
// stack is code only.
func (b *Bot) protect(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			desc := fmt.Sprintf("%T", r)
			if re, ok := r.(runtime.Error); ok {
				desc = re.Error()
			}
			b.log.Error("matrix: handler panicked", "in", what, "panic", desc, "stack", string(debug.Stack()))
		}
	}()
	fn()
}
