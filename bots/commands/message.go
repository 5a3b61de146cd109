package commands

import (
	"time"

	"github.com/authbot/authbot/lang"
)

// ChatKind says where a message was sent. Secrets, codes and account names
// only ever go to Private chats.
type ChatKind int

const (
	Private ChatKind = iota // a one-to-one chat between the person and the bot
	Group                   // anything with more people in it (groups, channels, rooms)
)

// Request is one incoming message, already stripped of its platform.
type Request struct {
	// Person is the stable id of the sender, as the adapter knows them,
	// e.g. "telegram:123456789", "matrix:@alice:example.org", "local".
	Person string
	// Platform is "telegram", "matrix", "console" or "web", for logs,
	// metrics and the audit log. What the handler does differently on a
	// platform follows from the capabilities below, which the adapter sets
	// (a zero value is the cautious choice: no buttons, no deletion claim,
	// rate limited).
	Platform string
	// Buttons: the platform shows a Reply's Buttons as buttons to tap
	// (Telegram), so /code alone can answer with a keyboard of accounts.
	Buttons bool
	// DeletesMessages: the adapter deletes the person's message when a
	// reply asks for it (DeleteRequest), so replies may say it is gone.
	DeletesMessages bool
	// Files: the chat carries photos and files to the bot, so /help offers
	// screenshots of QR codes and export files.
	Files bool
	// MiniApp: the platform opens the web page inside the chat (a Telegram
	// Mini App), which /app needs.
	MiniApp bool
	// Local: the person sits at the bot's own machine (the console) and so
	// holds its data dir and master key anyway: no rate limit applies.
	Local bool
	// Prefix is how commands start on the platform: "" or "/" (Telegram,
	// console), "!" on Matrix (MatrixPrefix), where Element intercepts "/".
	// The handler reads both forms and writes its replies with Prefix.
	Prefix string
	Chat   ChatKind
	// Lang is the language the person's chat app reports (Telegram's
	// language_code: "ru", "pt-br"), or the terminal's locale on the
	// console; "" when the platform says nothing. A choice the person made
	// with /language wins over it.
	Lang string
	// LangForced: Lang was asked for explicitly for this session (authbot
	// chat --lang) and wins over the stored choice.
	LangForced bool
	// Text is the message text, or the caption of a file or photo, or the
	// Data of a pressed Button (then Callback is true).
	Text     string
	Callback bool
	// Attachment is a file or photo that came with the message, if any.
	Attachment *Attachment

	pr *lang.Printer // the reply language, set by Handle
}

// Attachment is a file or image a person sent. Adapters enforce a size
// limit (MaxAttachmentBytes) before they download it.
type Attachment struct {
	Name  string // file name as sent, may be empty; never trusted for the format
	MIME  string // as the platform reports it, may be empty
	Image bool   // sent as a photo/image (try QR decoding)
	Data  []byte
}

// MaxAttachmentBytes is the largest file or image an adapter hands over.
const MaxAttachmentBytes = 10 << 20

// Reply is one platform-neutral answer. Adapters render it their way:
// Parts as text with monospace code spans, Image as a photo, File as a
// document, Buttons as an inline keyboard (or a numbered list where there
// are no buttons).
type Reply struct {
	Parts   []Part
	Image   *File
	File    *File
	Buttons [][]Button

	// DeleteRequest asks the adapter to delete (redact) the message this is a
	// reply to, because it carried a secret. The adapter must tell the person
	// when it could not; see DeleteFailedNotice.
	DeleteRequest bool
	// ExpiresAt, when not zero, asks the adapter to delete this reply at that
	// time (exports, codes: so the chat history holds no old secrets).
	ExpiresAt time.Time
	// Tag, when set with ExpiresAt, names this reply's deletion so it can
	// come early: a /web link's message goes once the link is used
	// (adapters with a Hurry method).
	Tag string
	// CodeValidUntil, when not zero, is when the code in this reply stops
	// being valid: adapters that can edit messages mark it expired then.
	CodeValidUntil time.Time
	// To, when not empty, is the person (config user name, like
	// Request.Person) this reply is for instead of the sender: adapters
	// send it to that person's private chat on their own platform, and drop
	// it (logging the person's name only) when the person has no identity
	// there. Approval requests to a vault's admins and the code that
	// follows an approval use it.
	To string
	// AsksSecret: the person's next message is a secret (a password for an
	// export or an encrypted import). The console reads it without echo
	// when its input is a terminal.
	AsksSecret bool
	// Sensitive replies carry a code, a secret or an account name. Adapters
	// must never send them outside a private chat; commands already refuses
	// such requests in groups, this is the second lock.
	Sensitive bool

	failed bool // the bot failed (not the person's input); for the Observer
	// refused: the command did not do what was asked (bad input, nothing
	// found, unknown command): scripts on the console exit non-zero.
	refused bool
}

// Failed reports whether the command behind this reply did not do what
// was asked, through the person's input or the bot's fault.
func (r Reply) Failed() bool { return r.failed || r.refused }

// Part is a run of text; Code runs are shown monospace (one tap copies the
// code on Telegram).
type Part struct {
	Text string
	Code bool
}

// Button is one inline button. Data is a command line (at most 64 bytes)
// that the adapter sends back as Request.Text with Callback set when the
// button is pressed.
type Button struct {
	Label string
	Data  string
	// Typed, when set, is the same command as a person would type it (real
	// names instead of a button's #id): what text renderings show. Empty:
	// Data is already what a person types.
	Typed string
	// WebApp, when set, makes this a Telegram Mini App button that opens
	// the URL (Data is then unused). Only replies on Telegram carry one.
	WebApp string
}

// Command is the command line to show for b where there are no buttons.
func (b Button) Command() string {
	if b.Typed != "" {
		return b.Typed
	}
	return b.Data
}

// File is a named blob sent to the person: a QR PNG, an export vault.
type File struct {
	Name    string
	MIME    string
	Data    []byte
	Caption string
}

// DeleteFailedNotice begins the English of the notice adapters append when
// a DeleteRequest could not be honoured, so the person removes the secret
// themselves. The notice itself is the catalogue's msg.delete_failed, in
// the person's language, with the platform's reason; tests look for this.
const DeleteFailedNotice = "I could not delete your message that contains the secret"

// PlainText joins the parts of a reply, code spans unmarked.
func (r Reply) PlainText() string {
	n := 0
	for _, p := range r.Parts {
		n += len(p.Text)
	}
	b := make([]byte, 0, n)
	for _, p := range r.Parts {
		b = append(b, p.Text...)
	}
	return string(b)
}

func plain(s string) []Part { return []Part{{Text: s}} }
