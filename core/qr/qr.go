// Package qr reads the QR codes in a photo or screenshot (an otpauth:// link,
// a Google Authenticator transfer code) and draws QR codes for exports.
//
// Images come from chat messages, so every byte is treated as hostile: the
// input size and the declared pixel count are checked before any pixel is
// decoded, because a few kilobytes of PNG can declare gigabytes of pixels.
//
// # Memory budget
//
// What a decode costs is known from the header alone (image.DecodeConfig):
// pixels times the bytes per pixel of the decoder's buffers, which depend
// on the format — 1 for GIF and gray, 4 for 8-bit PNG, 8 for 16-bit PNG,
// about 15 for a progressive JPEG (Go's decoder keeps every DCT
// coefficient as an int32 until the last scan). An image whose estimate is
// over decodeBudget, or over MaxPixels, is refused before a pixel is
// decoded. Large images are scaled down to searchPixels gray pixels
// (golang.org/x/image/draw) before the QR search, whose own buffers then
// stay small. A Decoder runs one decode at a time, so the budget is the
// whole cost however many pictures arrive at once.
package qr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registered for image.Decode: people send GIF screenshots too
	_ "image/jpeg"
	"image/png"
	"math"
	"sort"
	"strings"

	"github.com/boombuler/barcode/qr"
	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/image/draw"
)

const (
	// MaxInput is the largest image file Decode accepts.
	MaxInput = 10 << 20
	// MaxPixels bounds the decoded image: 12 megapixels is a phone photo
	// (screenshots are 2–4), 48 MB of RGBA while decoding.
	MaxPixels = 12_000_000
	// decodeBudget bounds the decoder's estimated buffers (see the package
	// comment): a 12 Mpx 8-bit PNG fits, a 16-bit one up to 8 Mpx, a
	// progressive JPEG up to about 4 Mpx.
	decodeBudget = 64 << 20
	// searchPixels is the most pixels the QR search looks at: a phone
	// screenshot (about 3 Mpx) scaled to 2 Mpx still gives its QR code
	// several pixels per module, and the search's time grows with the
	// pixels (about 0.4 s for 2 Mpx with TRY_HARDER, 1.9 s for 12).
	searchPixels = 2_000_000
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
	// ErrImageTooLarge: over MaxInput bytes, MaxPixels pixels or the
	// decode budget.
	ErrImageTooLarge = errors.New("the image is too large for me to read (at most 10 MiB and 12 megapixels, fewer for 16-bit or progressive images): send a screenshot, or crop the picture to the QR code")
)

// Reason is the person text for a decoding error, as a sentence without
// its final period: the sentinel's own words, never the image decoder's
// detail (Go's "png: invalid format…" is for the log). "" for an error
// that is none of the three.
func Reason(err error) string {
	for _, s := range []error{ErrNoQR, ErrNotImage, ErrImageTooLarge} {
		if errors.Is(err, s) {
			t := s.Error()
			return strings.ToUpper(t[:1]) + t[1:]
		}
	}
	return ""
}

// Decoder decodes one image at a time, so that pictures arriving together
// cannot multiply the decode budget. The zero value is not usable; make
// one with NewDecoder and share it.
type Decoder struct {
	sem chan struct{}
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder { return &Decoder{sem: make(chan struct{}, 1)} }

// Decode is the package's Decode, waiting for the decodes before it (or
// ctx).
func (d *Decoder) Decode(ctx context.Context, img []byte) ([]string, error) {
	// Cheap refusals do not queue.
	if _, err := check(img); err != nil {
		return nil, err
	}
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-d.sem }()
	return Decode(ctx, img)
}

// Decode returns the text of every QR code found in img, a PNG, JPEG or GIF
// file, in a stable order without duplicates. It returns ErrImageTooLarge,
// ErrNotImage or ErrNoQR, each readable by a person.
func Decode(ctx context.Context, img []byte) ([]string, error) {
	cfg, err := check(img)
	if err != nil {
		return nil, err
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
	if cfg.Width*cfg.Height > searchPixels {
		m = shrink(m, cfg.Width, cfg.Height)
	}
	return decodeImage(m)
}

// check reads img's header and refuses what is over the limits.
func check(img []byte) (image.Config, error) {
	if len(img) > MaxInput {
		return image.Config{}, ErrImageTooLarge
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return cfg, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, ErrNotImage
	}
	// Divide rather than multiply so that absurd dimensions cannot overflow.
	if cfg.Width > MaxPixels/cfg.Height {
		return cfg, ErrImageTooLarge
	}
	if cfg.Width*cfg.Height*bytesPerPixel(cfg, format, img) > decodeBudget {
		return cfg, ErrImageTooLarge
	}
	return cfg, nil
}

// bytesPerPixel estimates what the decoder of format holds per pixel.
func bytesPerPixel(cfg image.Config, format string, img []byte) int {
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8 + 1
	case color.Gray16Model:
		return 2 + 1
	case color.GrayModel:
		if format == "jpeg" && progressiveJPEG(img) {
			return 1 + 4
		}
		return 1 + 1
	}
	switch format {
	case "gif":
		return 1 + 1
	case "jpeg":
		if progressiveJPEG(img) {
			return 3 + 12 // the image, and 3 components of int32 coefficients
		}
		return 3
	}
	return 4 + 1 // 8-bit PNG: RGBA plus row buffers
}

// progressiveJPEG reports whether a JPEG's frame header is SOF2 (or
// another progressive one), walking the markers up to the first frame.
func progressiveJPEG(b []byte) bool {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return false
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return false
		}
		m := b[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce:
			return true
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			return false // another frame type: not progressive
		case m == 0xd8 || m == 0x01 || m >= 0xd0 && m <= 0xd7:
			i += 2 // markers without a length
			continue
		}
		i += 2 + int(b[i+2])<<8 | int(b[i+3])
	}
	return false
}

// shrink scales m down to about searchPixels gray pixels: the QR search
// needs only luminance, and its buffers grow with the pixel count.
func shrink(m image.Image, w, h int) image.Image {
	f := math.Sqrt(float64(searchPixels) / float64(w*h))
	dw, dh := max(int(float64(w)*f), 1), max(int(float64(h)*f), 1)
	dst := image.NewGray(image.Rect(0, 0, dw, dh))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), m, m.Bounds(), draw.Src, nil)
	return dst
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
