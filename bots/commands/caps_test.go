package commands_test

import "github.com/authbot/authbot/bots/commands"

// withCaps gives a test's Request the capabilities its platform's adapter
// sets (bots/telegram, bots/matrix, bots/console; their own tests run the
// real adapter), so these tests keep talking to the handler as each
// platform does.
func withCaps(req commands.Request) commands.Request {
	switch req.Platform {
	case "telegram":
		req.Buttons, req.DeletesMessages, req.Files, req.MiniApp = true, true, true, true
	case "matrix":
		req.DeletesMessages, req.Files = true, true
	case "console":
		req.Local = true
	}
	return req
}
