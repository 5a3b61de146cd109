package qr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		text string
		size int
	}{
		{"otpauth", "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example", 300},
		{"migration", "otpauth-migration://offline?data=" + strings.Repeat("CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU", 8), 600},
		{"tiny size still readable", "hello", 1},
		{"unicode", "otpauth://totp/B%C3%A4ckerei:j%C3%B6rg?secret=JBSWY3DPEHPK3PXP", 256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pngBytes, err := Encode(tc.text, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(pngBytes))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != cfg.Height || cfg.Width > MaxSize {
				t.Errorf("image is %dx%d", cfg.Width, cfg.Height)
			}
			if tc.size > 100 && cfg.Width < tc.size/2 {
				t.Errorf("asked for %d px, got %d", tc.size, cfg.Width)
			}
			got, err := Decode(context.Background(), pngBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tc.text {
				t.Errorf("Decode = %q, want %q", got, tc.text)
			}
		})
	}
}

func TestEncodeQuietZone(t *testing.T) {
	pngBytes, err := Encode("quiet", 290)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	// 21 modules + 8 quiet: 10 px a module, so the outer 40 px are white.
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for _, x := range []int{0, 39, b.Max.X - 40, b.Max.X - 1} {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				t.Fatalf("dark pixel at (%d,%d) inside the quiet zone", x, y)
			}
		}
	}
}

func TestEncodeTooLong(t *testing.T) {
	if _, err := Encode(strings.Repeat("x", 5000), 200); err == nil {
		t.Fatal("Encode of 5000 bytes succeeded; a QR code holds under 3000")
	}
}

// TestDecodeSeveral: a photo with two codes side by side yields both texts.
func TestDecodeSeveral(t *testing.T) {
	a := mustImage(t, "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP", 250)
	b := mustImage(t, "otpauth://totp/B:b?secret=KRSXG5CTMVRXEZLU", 250)
	canvas := image.NewGray(image.Rect(0, 0, a.Bounds().Dx()+b.Bounds().Dx()+40, 300))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(canvas, a.Bounds(), a, image.Point{}, draw.Src)
	draw.Draw(canvas, b.Bounds().Add(image.Pt(a.Bounds().Dx()+40, 0)), b, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(context.Background(), buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP", "otpauth://totp/B:b?secret=KRSXG5CTMVRXEZLU"}
	if !slices.Equal(got, want) {
		t.Errorf("Decode = %q, want %q", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	blank := image.NewRGBA(image.Rect(0, 0, 200, 120))
	draw.Draw(blank, blank.Bounds(), &image.Uniform{color.RGBA{200, 30, 30, 255}}, image.Point{}, draw.Src)
	var blankPNG bytes.Buffer
	if err := png.Encode(&blankPNG, blank); err != nil {
		t.Fatal(err)
	}
	good, err := Encode("x", 100)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"no qr", blankPNG.Bytes(), ErrNoQR},
		{"empty", nil, ErrNotImage},
		{"garbage", []byte("this is not an image at all"), ErrNotImage},
		{"tiny", []byte{0x89, 'P', 'N', 'G'}, ErrNotImage},
		{"truncated png", good[:len(good)/2], ErrNotImage},
		{"huge declared size", hugePNGHeader(t, 100_000, 100_000), ErrImageTooLarge},
		{"overflowing declared size", hugePNGHeader(t, 1<<31-1, 1<<31-1), ErrNotImage}, // image/png refuses it itself
		{"over 10 MiB", append(append([]byte{}, good...), make([]byte, MaxInput)...), ErrImageTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(context.Background(), tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %q, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestDecodeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good, err := Encode("x", 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(ctx, good); !errors.Is(err, context.Canceled) {
		t.Fatalf("Decode with a canceled context = %v", err)
	}
}

func mustImage(t testing.TB, text string, size int) image.Image {
	t.Helper()
	b, err := Encode(text, size)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// hugePNGHeader returns a small valid PNG whose IHDR declares w×h pixels:
// a decompression bomb as far as DecodeConfig can tell.
func hugePNGHeader(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Signature (8), length (4), "IHDR" (4), then width and height; the
	// chunk's CRC covers type and data (13 bytes) and follows them.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func FuzzDecode(f *testing.F) {
	good, err := Encode("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", 120)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("GIF89a"))
	f.Add(hugePNGHeader(&testing.T{}, 5000, 5000))
	f.Add(progressiveHeader(f, 64, 64))
	f.Add(png16(f, 8, 8, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := Decode(context.Background(), b)
		if err == nil || errors.Is(err, ErrNoQR) {
			// Whatever was decoded was within the budget.
			cfg, format, cerr := image.DecodeConfig(bytes.NewReader(b))
			if cerr != nil || cfg.Width*cfg.Height > MaxPixels || cfg.Width*cfg.Height*bytesPerPixel(cfg, format, b) > decodeBudget {
				t.Fatalf("decoded a %dx%d %s over the budget", cfg.Width, cfg.Height, format)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	img, err := Encode("otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example", 600)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode("otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example", 400); err != nil {
			b.Fatal(err)
		}
	}
}
