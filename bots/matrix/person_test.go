//go:build goolm

package matrix

import (
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/matrix/matrixtest"
)

// waitFor bounds every wait in the integration tests.
const waitFor = matrixtest.WaitFor

// person is the human side: an independent E2EE Matrix client
// (matrixtest.Person, shared with the PostgreSQL failover test).
type person = matrixtest.Person

// replyFrom matches messages from sender in room, sent after the event after
// (so earlier replies do not count).
func replyFrom(room id.RoomID, sender id.UserID, since time.Time) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		if evt.RoomID != room || evt.Sender != sender || evt.Type != event.EventMessage {
			return false
		}
		msg := evt.Content.AsMessage()
		if msg.RelatesTo != nil && msg.RelatesTo.Type == event.RelReplace {
			return false
		}
		return evt.Timestamp >= since.UnixMilli()-1000
	}
}

// redactionOf matches the redaction of target in room.
func redactionOf(room id.RoomID, target id.EventID) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		return evt.RoomID == room && evt.Type == event.EventRedaction &&
			(evt.Redacts == target || evt.Content.AsRedaction().Redacts == target)
	}
}
