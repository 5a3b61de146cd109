package transfer

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
)

// Zip archives: a zip of Steam Desktop Authenticator's maFiles folder,
// WinAuth's password-protected export (a zip holding one text file), Raivo
// OTP's export (a password-protected zip holding a JSON file), or any export
// someone zipped. archive/zip reads the container; it does not decrypt, so
// encrypted entries are read raw (File.OpenRaw) and decrypted here:
//
//   - traditional PKWARE encryption (APPNOTE.TXT 6.1, "ZipCrypto"), which
//     WinAuth's SharpZipLib writes: a 12-byte header whose last byte checks
//     the password, then a stream cipher over the compressed data; the CRC
//     of the result is checked too, since the check byte passes for 1 in 256
//     wrong passwords;
//   - WinZip AES (AE-1/AE-2, compression method 99, extra field 0x9901),
//     which Raivo's SSZipArchive writes: PBKDF2-HMAC-SHA1 with 1,000 rounds
//     gives the AES key, an HMAC-SHA1 key and a 2-byte verifier; AES-CTR with
//     a little-endian counter from 1; a 10-byte HMAC-SHA1 of the ciphertext,
//     checked in constant time before anything is decompressed.
//
// Only stored and deflated entries are read. Against zip bombs every limit
// is checked on the declared sizes before reading and again on the bytes
// actually produced.

const (
	maxZipEntries = 256            // files listed in the archive
	maxZipTotal   = MaxInput       // uncompressed bytes of all files read
	maxZipRatio   = 200            // uncompressed/compressed size of one file
	zipCryptoHead = 12             // ZipCrypto's encryption header
	winZipAESID   = 0x9901         // the extra field of WinZip AES
	winZipAESIter = 1000           // fixed by the WinZip AES specification
	winZipMACSize = 10             // truncated HMAC-SHA1
	zipFlagCrypt  = 0x1            // general purpose flag: encrypted
	zipFlagDesc   = 0x8            // general purpose flag: sizes in a data descriptor
	zipMethodAES  = 99             // compression method of WinZip AES entries
	maxZipName    = 1 << 10        // a longer name is not an export's
	zipMinMember  = int64(1) << 10 // sizes below this are not held to the ratio
)

// errZipPassword: a wrong password for an encrypted entry.
var errZipPassword = errors.New("wrong zip password")

// unzip reads the files of a zip archive into memory, within the limits.
// Directories and macOS metadata (__MACOSX/, ._*) are skipped: they are
// the archiver's, not the export's.
func (im *Importer) unzip(ctx context.Context, data []byte, password string) ([]namedFile, bool, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, false, corrupt("the zip archive cannot be read (%s)", zipReason(err)).with("zip_unreadable")
	}
	if len(zr.File) > maxZipEntries {
		return nil, false, ErrTooLarge
	}
	var members []*zip.File
	encrypted := false
	var declared uint64
	for _, f := range zr.File {
		name := f.Name
		base := name[strings.LastIndex(name, "/")+1:]
		if f.FileInfo().IsDir() || strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(base, "._") || base == ".DS_Store" {
			continue
		}
		if len(name) > maxZipName {
			return nil, false, corrupt("the zip archive has a file name of %d bytes", len(name))
		}
		if f.UncompressedSize64 > maxZipTotal {
			return nil, false, ErrTooLarge
		}
		declared += f.UncompressedSize64
		if declared > maxZipTotal {
			return nil, false, ErrTooLarge
		}
		if f.UncompressedSize64 > uint64(zipMinMember) && f.UncompressedSize64/max(f.CompressedSize64, 1) > maxZipRatio {
			return nil, false, corrupt("a file in the zip archive is compressed more than %d to 1, which no export is", maxZipRatio).with("zip_ratio", "Max", maxZipRatio)
		}
		if f.Flags&zipFlagCrypt != 0 {
			encrypted = true
		}
		members = append(members, f)
	}
	if len(members) == 0 {
		return nil, false, unknown("the zip archive holds no files")
	}
	if encrypted && password == "" {
		return nil, true, ErrPasswordRequired
	}
	out := make([]namedFile, 0, len(members))
	budget := int64(maxZipTotal)
	for _, f := range members {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		b, err := readZipMember(f, password, budget)
		switch {
		case errors.Is(err, errZipPassword):
			return nil, true, ErrWrongPassword
		case errors.Is(err, ErrTooLarge):
			return nil, false, ErrTooLarge
		case err != nil:
			return nil, false, corrupt("the file %q in the zip archive cannot be read (%s)", clip(cleanText(f.Name), 60), zipReason(err)).with("zip_file_unreadable", "Name", clip(cleanText(f.Name), 60))
		}
		budget -= int64(len(b))
		out = append(out, namedFile{name: f.Name, data: b})
	}
	return out, encrypted, nil
}

// zipReason is a short, safe reason from archive/zip or flate.
func zipReason(err error) string {
	switch {
	case errors.Is(err, zip.ErrChecksum):
		return "its checksum does not match"
	case errors.Is(err, zip.ErrAlgorithm):
		return "it uses a compression method I do not support"
	case errors.Is(err, zip.ErrFormat), errors.Is(err, io.ErrUnexpectedEOF):
		return "it is damaged or incomplete"
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		return "its compressed data is damaged"
	}
	return "it is damaged"
}

// readZipMember returns one file's bytes, at most limit of them.
func readZipMember(f *zip.File, password string, limit int64) ([]byte, error) {
	if f.Flags&zipFlagCrypt == 0 {
		rc, err := f.Open() // checks the CRC at EOF
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return readCapped(rc, min(limit, int64(f.UncompressedSize64)))
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	// The raw (compressed, encrypted) data is bounded by the archive,
	// itself at most MaxInput.
	sealed, err := io.ReadAll(raw)
	if err != nil {
		return nil, err
	}
	if f.Method == zipMethodAES {
		method, plain, err := winZipAESOpen(f, sealed, password)
		if err != nil {
			return nil, err
		}
		// AE-2 stores no CRC (the MAC stands for it); AE-1 does.
		b, err := decompress(method, plain, min(limit, int64(f.UncompressedSize64)))
		if err != nil {
			return nil, err
		}
		if f.CRC32 != 0 && crc32.ChecksumIEEE(b) != f.CRC32 {
			return nil, zip.ErrChecksum
		}
		return b, nil
	}
	plain, err := zipCryptoOpen(f, sealed, password)
	if err != nil {
		return nil, err
	}
	b, err := decompress(f.Method, plain, min(limit, int64(f.UncompressedSize64)))
	if err != nil {
		// Garbage from a wrong password that passed the check byte.
		return nil, errZipPassword
	}
	if crc32.ChecksumIEEE(b) != f.CRC32 {
		return nil, errZipPassword
	}
	return b, nil
}

// readCapped reads r to its end, refusing more than limit bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

func decompress(method uint16, data []byte, limit int64) ([]byte, error) {
	switch method {
	case zip.Store:
		if int64(len(data)) > limit {
			return nil, ErrTooLarge
		}
		return data, nil
	case zip.Deflate:
		fr := flate.NewReader(bytes.NewReader(data))
		defer fr.Close()
		return readCapped(fr, limit)
	}
	return nil, zip.ErrAlgorithm
}

// zipCrypto is the traditional PKWARE stream cipher (APPNOTE.TXT 6.1.5).
type zipCrypto struct{ k0, k1, k2 uint32 }

func newZipCrypto(password string) *zipCrypto {
	z := &zipCrypto{0x12345678, 0x23456789, 0x34567890}
	for i := 0; i < len(password); i++ {
		z.update(password[i])
	}
	return z
}

func (z *zipCrypto) update(b byte) {
	z.k0 = crc32.IEEETable[byte(z.k0)^b] ^ (z.k0 >> 8)
	z.k1 = (z.k1+(z.k0&0xff))*134775813 + 1
	z.k2 = crc32.IEEETable[byte(z.k2)^byte(z.k1>>24)] ^ (z.k2 >> 8)
}

func (z *zipCrypto) decrypt(buf []byte) {
	for i, c := range buf {
		t := z.k2 | 2
		p := c ^ byte((t*(t^1))>>8)
		z.update(p)
		buf[i] = p
	}
}

func zipCryptoOpen(f *zip.File, sealed []byte, password string) ([]byte, error) {
	if len(sealed) < zipCryptoHead {
		return nil, zip.ErrFormat
	}
	buf := append([]byte(nil), sealed...)
	z := newZipCrypto(password)
	z.decrypt(buf)
	// The last header byte is the high byte of the CRC, or of the DOS
	// modification time when the sizes follow in a data descriptor
	// (streamed archives such as SharpZipLib's).
	want := byte(f.CRC32 >> 24)
	if f.Flags&zipFlagDesc != 0 {
		want = byte(f.ModifiedTime >> 8)
	}
	if buf[zipCryptoHead-1] != want {
		return nil, errZipPassword
	}
	return buf[zipCryptoHead:], nil
}

// winZipAESOpen checks and decrypts a WinZip AES entry and returns its real
// compression method with the still-compressed data.
func winZipAESOpen(f *zip.File, sealed []byte, password string) (uint16, []byte, error) {
	strength, method, ok := winZipAESExtra(f.Extra)
	if !ok {
		return 0, nil, zip.ErrFormat
	}
	keyLen := map[byte]int{1: 16, 2: 24, 3: 32}[strength]
	if keyLen == 0 {
		return 0, nil, zip.ErrAlgorithm
	}
	saltLen := keyLen / 2
	if len(sealed) < saltLen+2+winZipMACSize {
		return 0, nil, zip.ErrFormat
	}
	salt, verifier := sealed[:saltLen], sealed[saltLen:saltLen+2]
	ct, mac := sealed[saltLen+2:len(sealed)-winZipMACSize], sealed[len(sealed)-winZipMACSize:]
	dk, err := pbkdf2.Key(sha1.New, password, salt, winZipAESIter, 2*keyLen+2)
	if err != nil {
		return 0, nil, err
	}
	encKey, macKey, check := dk[:keyLen], dk[keyLen:2*keyLen], dk[2*keyLen:]
	if subtle.ConstantTimeCompare(check, verifier) != 1 {
		return 0, nil, errZipPassword
	}
	h := hmac.New(sha1.New, macKey)
	h.Write(ct)
	if subtle.ConstantTimeCompare(h.Sum(nil)[:winZipMACSize], mac) != 1 {
		// The verifier matched, so this is damage, not the password
		// (or a wrong password in 1 of 65,536 cases).
		return 0, nil, errZipPassword
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return 0, nil, err
	}
	plain := make([]byte, len(ct))
	// WinZip's CTR counts little-endian, unlike cipher.NewCTR.
	var ctr, ks [aes.BlockSize]byte
	for off, n := 0, uint64(1); off < len(ct); off, n = off+aes.BlockSize, n+1 {
		binary.LittleEndian.PutUint64(ctr[:8], n)
		block.Encrypt(ks[:], ctr[:])
		end := min(off+aes.BlockSize, len(ct))
		subtle.XORBytes(plain[off:end], ct[off:end], ks[:end-off])
	}
	return method, plain, nil
}

// winZipAESExtra finds the 0x9901 extra field: vendor version (2), "AE",
// strength (1), actual compression method (2).
func winZipAESExtra(extra []byte) (strength byte, method uint16, ok bool) {
	for len(extra) >= 4 {
		id, size := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if len(extra) < 4+size {
			return 0, 0, false
		}
		body := extra[4 : 4+size]
		if id == winZipAESID && size >= 7 && string(body[2:4]) == "AE" {
			return body[4], binary.LittleEndian.Uint16(body[5:7]), true
		}
		extra = extra[4+size:]
	}
	return 0, 0, false
}
