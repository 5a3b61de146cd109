package qr

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
)

// pngChunk appends one PNG chunk.
func pngChunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(append([]byte(typ), data...)))
	out.Write(n[:])
}

// png16 streams a real 16-bit RGB PNG of w×h, white with black where dark
// says, without ever holding the image: the review's 350 KB, 16-bit
// "bomb" is w×h of almost nothing.
func png16(t testing.TB, w, h int, dark func(x, y int) bool) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 2 // 16-bit, truecolour
	pngChunk(&out, "IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	row := make([]byte, 1+6*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := byte(0xff)
			if dark != nil && dark(x, y) {
				v = 0
			}
			for i := 1 + 6*x; i < 7+6*x; i++ {
				row[i] = v
			}
		}
		if _, err := zw.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	pngChunk(&out, "IDAT", z.Bytes())
	pngChunk(&out, "IEND", nil)
	return out.Bytes()
}

// progressiveHeader is a JPEG whose frame is SOF2 (progressive) of w×h:
// what DecodeConfig sees of the review's 470 KB progressive JPEG.
func progressiveHeader(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xff, 0xc0})
	b[i+1] = 0xc2
	binary.BigEndian.PutUint16(b[i+5:], uint16(h))
	binary.BigEndian.PutUint16(b[i+7:], uint16(w))
	return b
}

// qrDark returns a dark(x, y) drawing the QR code of text, size pixels
// wide, at (ox, oy).
func qrDark(t testing.TB, text string, size, ox, oy int) func(x, y int) bool {
	m := mustImage(t, text, size)
	return func(x, y int) bool {
		x, y = x-ox, y-oy
		if x < 0 || y < 0 || x >= m.Bounds().Dx() || y >= m.Bounds().Dy() {
			return false
		}
		r, _, _, _ := m.At(x, y).RGBA()
		return r < 0x8000
	}
}

// allocated is how many bytes fn allocates: an upper bound of how much
// its decode adds to the heap at its peak.
func allocated(fn func()) uint64 {
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

const budgetLink = "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"

// TestDecodeBudget: the review's worst pictures are refused from their
// header, and the worst pictures still accepted (a 12 Mpx 8-bit PNG, a
// 16-bit PNG just under the budget) decode within 150 MB with the QR code
// found.
func TestDecodeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100 MB of pixels")
	}
	ctx := context.Background()
	for name, img := range map[string][]byte{
		"40 Mpx progressive JPEG": progressiveHeader(t, 6400, 6200),
		"5 Mpx progressive JPEG":  progressiveHeader(t, 2500, 2000),
		"39 Mpx 16-bit PNG":       png16(t, 6000, 6600, nil),
		"8 Mpx 16-bit PNG":        png16(t, 3300, 2500, nil),
	} {
		var err error
		n := allocated(func() { _, err = Decode(ctx, img) })
		if !errors.Is(err, ErrImageTooLarge) {
			t.Errorf("%s (%d KB): %v, want refused", name, len(img)>>10, err)
		}
		t.Logf("%s (%d KB): refused after %d KB allocated", name, len(img)>>10, n>>10)
	}

	if raceEnabled {
		t.Log("decoding the largest accepted pictures is measured without -race")
		return
	}
	// The largest accepted 8-bit image: 4000×3000 with a QR code in it,
	// and a 16-bit one just under the budget.
	gray := image.NewGray(image.Rect(0, 0, 4000, 3000))
	dark := qrDark(t, budgetLink, 900, 1500, 1000)
	for y := 0; y < 3000; y++ {
		for x := 0; x < 4000; x++ {
			if !dark(x, y) {
				gray.Pix[y*gray.Stride+x] = 0xff
			}
		}
	}
	var big bytes.Buffer
	if err := png.Encode(&big, gray); err != nil {
		t.Fatal(err)
	}
	gray = nil
	for name, img := range map[string][]byte{
		"12 Mpx 8-bit PNG": big.Bytes(),
		"7 Mpx 16-bit PNG": png16(t, 3000, 2300, qrDark(t, budgetLink, 700, 1100, 800)),
	} {
		var texts []string
		var err error
		n := allocated(func() { texts, err = Decode(ctx, img) })
		if err != nil || len(texts) != 1 || texts[0] != budgetLink {
			t.Errorf("%s: %q, %v", name, texts, err)
		}
		if n > 150<<20 {
			t.Errorf("%s: %d MB allocated decoding it, budget 150 MB", name, n>>20)
		}
		t.Logf("%s (%d KB): decoded, %d MB allocated", name, len(img)>>10, n>>20)
	}
}

// TestProgressiveJPEG reads the frame type from the markers.
func TestProgressiveJPEG(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	if progressiveJPEG(buf.Bytes()) {
		t.Fatal("baseline JPEG read as progressive")
	}
	if !progressiveJPEG(progressiveHeader(t, 100, 100)) {
		t.Fatal("progressive JPEG not recognised")
	}
}
