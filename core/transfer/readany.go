package transfer

import (
	"context"
	"errors"
	"strings"
)

// ErrQRNotOTP: a QR code holds something other than a 2FA link (a web
// address, a Wi-Fi password…).
var ErrQRNotOTP = errors.New("this QR code holds no 2FA link (otpauth://)")

// QRReader finds the QR codes in a picture; core/qr's Decoder is one. It is
// declared here, where it is used, so transfer does not depend on the
// image decoders.
type QRReader interface {
	Decode(ctx context.Context, img []byte) ([]string, error)
}

// Found is one thing an input held, in the order it held them.
type Found struct {
	// Result holds an export file's or a transfer link's accounts.
	Result *Result
	// Link is a single otpauth:// link from a QR code. It is handed back
	// as text so the caller adds it the way it adds a typed link (chat
	// reads the key back to the person).
	Link string
	// Err says why one QR code of several could not be read (ErrQRNotOTP,
	// or Import's errors for a broken transfer link); the others are still
	// in the list.
	Err error
}

// ReadAny reads whatever a person sent, the one import flow chat and the
// command line share: export files (several together when they belong to
// one export, such as Steam's manifest and maFiles), or a picture, whose
// QR codes may hold otpauth:// links, Google Authenticator transfer links
// or something else. password is used only for encrypted files.
//
// Errors: those of ImportFiles — ErrPasswordRequired (ask, then call again
// with the password), ErrNeedFile (hold the files, ask for the rest) and
// the rest; for a picture, the QR reader's errors (no QR code, not an
// image, too large). Problems of single QR codes are in Found.Err instead.
func (im *Importer) ReadAny(ctx context.Context, qrs QRReader, files [][]byte, password string) ([]Found, error) {
	res, err := im.ImportFiles(ctx, files, password)
	if err == nil {
		return []Found{{Result: res}}, nil
	}
	if !errors.Is(err, ErrImage) || len(files) != 1 {
		return nil, err
	}
	return im.ReadPicture(ctx, qrs, files[0])
}

// ReadPicture reads the QR codes in a picture (a photo, or a file ReadAny
// found to be an image), each as one Found.
//
// Errors: the QR reader's (no QR code, not an image, too large) or ctx's.
func (im *Importer) ReadPicture(ctx context.Context, qrs QRReader, img []byte) ([]Found, error) {
	texts, err := qrs.Decode(ctx, img)
	if err != nil {
		return nil, err
	}
	found := make([]Found, 0, len(texts))
	for _, text := range texts {
		lower := strings.ToLower(text)
		switch {
		case strings.HasPrefix(lower, "otpauth://"):
			found = append(found, Found{Link: text})
		case strings.HasPrefix(lower, "otpauth-migration://"):
			res, err := im.Import(ctx, []byte(text), "")
			found = append(found, Found{Result: res, Err: err})
		default:
			found = append(found, Found{Err: ErrQRNotOTP})
		}
	}
	return found, nil
}
