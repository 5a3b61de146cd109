//go:build goolm

package matrix

import (
	"fmt"
	"html"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
)

// renderText turns a reply's parts and buttons into an m.text message with
// an HTML body (code spans in <code>, everything escaped) and a plain-text
// body for clients without HTML. It returns nil when there is no text.
//
// Matrix has no inline buttons, so Buttons become a numbered list of the
// commands the person can type instead.
func renderText(r commands.Reply) *event.MessageEventContent {
	var plain, rich strings.Builder
	for _, p := range r.Parts {
		plain.WriteString(p.Text)
		esc := strings.ReplaceAll(html.EscapeString(p.Text), "\n", "<br>")
		if p.Code {
			rich.WriteString("<code>" + esc + "</code>")
		} else {
			rich.WriteString(esc)
		}
	}
	var buttons []commands.Button
	for _, row := range r.Buttons {
		for _, btn := range row {
			if strings.TrimSpace(btn.Data) != "" {
				buttons = append(buttons, btn)
			}
		}
	}
	if len(buttons) > 0 {
		if plain.Len() > 0 {
			plain.WriteString("\n\n")
		}
		plain.WriteString("Reply with one of:")
		rich.WriteString("<p>Reply with one of:</p><ol>")
		for i, btn := range buttons {
			label := strings.TrimSpace(btn.Label)
			fmt.Fprintf(&plain, "\n%d. %s", i+1, btn.Data)
			rich.WriteString("<li><code>" + html.EscapeString(btn.Data) + "</code>")
			if label != "" && label != btn.Data {
				plain.WriteString(" (" + label + ")")
				rich.WriteString(" " + html.EscapeString("("+label+")"))
			}
			rich.WriteString("</li>")
		}
		rich.WriteString("</ol>")
	}
	if plain.Len() == 0 {
		return nil
	}
	return &event.MessageEventContent{
		MsgType:       event.MsgText,
		Body:          plain.String(),
		Format:        event.FormatHTML,
		FormattedBody: rich.String(),
	}
}

// expiredText replaces a code reply once the code has run out, so an old
// code on the screen is not mistaken for a live one.
const expiredText = "This code has expired. Ask again for a fresh one."

// expiredEdit is an m.replace edit of a code reply. The original stays
// until the reply's ExpiresAt redaction removes it and its edits.
func expiredEdit(original id.EventID) *event.MessageEventContent {
	return &event.MessageEventContent{
		MsgType: event.MsgText,
		Body:    "* " + expiredText,
		NewContent: &event.MessageEventContent{
			MsgType: event.MsgText,
			Body:    expiredText,
		},
		RelatesTo: &event.RelatesTo{Type: event.RelReplace, EventID: original},
	}
}
