//go:build goolm

package matrix

import (
	"fmt"
	"html"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/lang"
)

// Rendering follows the conventions Matrix clients expect of bots: every
// message is an m.notice (clients do not notify for it, and other bots do
// not answer it), with the HTML body kept; a code is sent as a reply to the
// person's request (m.in_reply_to, no quoted fallback: the request may have
// been redacted and quoting would copy it); the expiry is an edit
// (m.replace with m.new_content). Everything here is pure, so the outbox
// that decides when edits run and the adapter that sends replies build the
// same events.

// renderText turns a reply's parts and buttons into an m.notice with an
// HTML body (code spans in <code>, everything escaped) and a plain-text
// body for clients without HTML. It returns nil when there is no text.
//
// Matrix has no inline buttons, so Buttons become short numbered options
// (their labels) that the person answers with the number alone; the
// adapter keeps what each number stands for (see choices.go). No command
// data or account id is shown.
func renderText(r commands.Reply) *event.MessageEventContent { return renderIn(english(), r) }

// renderIn is renderText with the adapter's own words (the options'
// prompt) in p's language.
func renderIn(p *lang.Printer, r commands.Reply) *event.MessageEventContent {
	choicePrompt := p.T("matrix.choice_prompt")
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
	if options := choiceButtons(r); len(options) > 0 {
		if plain.Len() > 0 {
			plain.WriteString("\n\n")
		}
		plain.WriteString(choicePrompt)
		rich.WriteString("<p>" + html.EscapeString(choicePrompt) + "</p><ol>")
		for i, btn := range options {
			label := optionLabel(p, btn, i)
			fmt.Fprintf(&plain, "\n%d. %s", i+1, label)
			rich.WriteString("<li>" + html.EscapeString(label) + "</li>")
		}
		rich.WriteString("</ol>")
	}
	if plain.Len() == 0 {
		return nil
	}
	return &event.MessageEventContent{
		MsgType:       event.MsgNotice,
		Body:          plain.String(),
		Format:        event.FormatHTML,
		FormattedBody: rich.String(),
	}
}

// choiceButtons are a reply's buttons in reading order, without empty ones.
func choiceButtons(r commands.Reply) []commands.Button {
	var out []commands.Button
	for _, row := range r.Buttons {
		for _, btn := range row {
			if strings.TrimSpace(btn.Data) != "" {
				out = append(out, btn)
			}
		}
	}
	return out
}

// optionLabel is what option i shows: the button's label, never its data
// (which may carry an account id).
func optionLabel(p *lang.Printer, btn commands.Button, i int) string {
	if l := strings.TrimSpace(btn.Label); l != "" {
		return l
	}
	return p.T("matrix.option", "N", i+1)
}

// hasCode reports whether a reply carries a code span (a one-time code, a
// key, a link): such replies are threaded to the request they answer.
func hasCode(r commands.Reply) bool {
	for _, p := range r.Parts {
		if p.Code {
			return true
		}
	}
	return false
}

// asReplyTo makes content a reply to the event it answers, without the
// deprecated quoted fallback.
func asReplyTo(content *event.MessageEventContent, to id.EventID) {
	if to == "" {
		return
	}
	content.RelatesTo = &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: to}}
}

// expiredText replaces a code reply once the code has run out, so an old
// code on the screen is not mistaken for a live one; in p's language
// (English for nil).
func expiredText(p *lang.Printer) string {
	if p == nil {
		p = english()
	}
	return p.T("matrix.expired")
}

// expiredEdit is the m.replace edit that marks a code reply expired: the
// fallback body starts with "* " as the spec asks, and m.new_content holds
// the replacement, an m.notice like the original, HTML kept. The original
// stays until the reply's ExpiresAt redaction removes it and its edits.
func expiredEdit(original id.EventID) *event.MessageEventContent {
	return expiredEditIn(english(), original)
}

// expiredEditIn is expiredEdit in p's language.
func expiredEditIn(p *lang.Printer, original id.EventID) *event.MessageEventContent {
	expiredText := expiredText(p)
	rich := "<em>" + html.EscapeString(expiredText) + "</em>"
	return &event.MessageEventContent{
		MsgType:       event.MsgNotice,
		Body:          "* " + expiredText,
		Format:        event.FormatHTML,
		FormattedBody: "* " + rich,
		NewContent: &event.MessageEventContent{
			MsgType:       event.MsgNotice,
			Body:          expiredText,
			Format:        event.FormatHTML,
			FormattedBody: rich,
		},
		RelatesTo: &event.RelatesTo{Type: event.RelReplace, EventID: original},
	}
}
