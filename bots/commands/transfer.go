package commands

import "context"

// attachment handles a file or photo: QR codes and other apps' exports.
func (h *Handler) attachment(ctx context.Context, req Request) []Reply {
	return []Reply{{Parts: plain("I cannot read files yet."), DeleteRequest: true}}
}

// importText handles a pasted otpauth-migration:// link.
func (h *Handler) importText(ctx context.Context, req Request, text string) []Reply {
	return []Reply{{Parts: plain("I cannot import Google Authenticator exports yet."), DeleteRequest: true}}
}
