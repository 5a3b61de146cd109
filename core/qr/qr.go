// Package qr reads the QR codes in a photo or screenshot (an otpauth:// link,
// a Google Authenticator transfer code) and draws QR codes for exports.
//
// Images come from chat messages, so every byte is treated as hostile: the
// input size and the declared pixel count are checked before any pixel is
// decoded, because a few kilobytes of PNG can declare gigabytes of pixels.
package qr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registered for image.Decode: people send GIF screenshots too
	_ "image/jpeg"
	"image/png"
	"sort"

	"github.com/boombuler/barcode/qr"
	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

const (
	// MaxInput is the largest image file Decode accepts.
	MaxInput = 10 << 20
	// MaxPixels bounds the decoded image: 40 megapixels is a large phone
	// photo, and about 160 MB of RGBA while decoding.
	MaxPixels = 40_000_000
	// MaxSize bounds the side of an image Encode draws.
	MaxSize = 4096
	// quietZone is the white border, in modules, that the QR standard asks
	// for; without it phone scanners often miss the code.
	quietZone = 4
)

var (
	// ErrNoQR: the image was read but holds no QR code that could be decoded.
	ErrNoQR = errors.New("no QR code found in the image")
	// ErrNotImage: the bytes are not a PNG, JPEG or GIF image.
	ErrNotImage = errors.New("this is not an image I can read (send a PNG or JPEG)")
	// ErrImageTooLarge: over MaxInput bytes or MaxPixels pixels.
	ErrImageTooLarge = errors.New("the image is too large (at most 10 MiB and 40 megapixels)")
)

// Decode returns the text of every QR code found in img, a PNG, JPEG or GIF
// file, in a stable order without duplicates. It returns ErrImageTooLarge,
// ErrNotImage or ErrNoQR, each readable by a person.
func Decode(ctx context.Context, img []byte) ([]string, error) {
	if len(img) > MaxInput {
		return nil, ErrImageTooLarge
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, ErrNotImage
	}
	// Divide rather than multiply so that absurd dimensions cannot overflow.
	if cfg.Width > MaxPixels/cfg.Height {
		return nil, ErrImageTooLarge
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return decodeImage(m)
}

func decodeImage(m image.Image) ([]string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	hints := map[gozxing.DecodeHintType]interface{}{
		gozxing.DecodeHintType_TRY_HARDER: true,
	}
	seen := map[string]bool{}
	var out []string
	addText := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	// The multi reader finds several codes in one screenshot (Google's
	// transfer screen shows one, but people photograph a page of them);
	// the single reader is kept as a fallback since it sometimes reads a
	// code the multi reader's detector rejects.
	if results, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints); err == nil {
		for _, r := range results {
			addText(r.GetText())
		}
	}
	if len(out) == 0 {
		if r, err := zxqr.NewQRCodeReader().Decode(bmp, hints); err == nil {
			addText(r.GetText())
		}
	}
	if len(out) == 0 {
		return nil, ErrNoQR
	}
	sort.Strings(out)
	return out, nil
}

// Encode draws text as a QR code with medium error correction and a quiet
// zone, scaled to about size pixels a side (never less than one pixel per
// module, never more than MaxSize), and returns it as PNG.
func Encode(text string, size int) ([]byte, error) {
	if size > MaxSize {
		size = MaxSize
	}
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("encode qr: %w", err)
	}
	modules := code.Bounds().Dx()
	total := modules + 2*quietZone
	scale := size / total
	if scale < 1 {
		scale = 1
	}
	side := total * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := 0; y < modules; y++ {
		for x := 0; x < modules; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r > 0x7fff {
				continue // a light module
			}
			x0, y0 := (x+quietZone)*scale, (y+quietZone)*scale
			for dy := 0; dy < scale; dy++ {
				row := img.Pix[(y0+dy)*img.Stride+x0 : (y0+dy)*img.Stride+x0+scale]
				for i := range row {
					row[i] = 0
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
