package core

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/authbot/authbot/core/otp"
)

// Records on the /code path (the account index and the accounts) use a
// small binary form instead of JSON: JSON decoding was most of the cost of
// a code (an index of 50 entries took ~100 µs and 300 allocations; an
// account ~9 µs). Strings are uvarint length + bytes, numbers uvarints,
// times a presence byte + zigzag varint of Unix nanoseconds.

var errRecordFormat = errors.New("malformed record")

type encoder struct{ b []byte }

func (e *encoder) byte(c byte)    { e.b = append(e.b, c) }
func (e *encoder) uint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) str(s string)   { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte) { e.uint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.byte(0)
		return
	}
	e.byte(1)
	e.b = binary.AppendVarint(e.b, t.UnixNano())
}

// decoder reads what encoder wrote. Strings are substrings of one copy of
// the input, so a record decodes with a couple of allocations. The first
// error sticks; check err once at the end.
type decoder struct {
	b   []byte
	s   string
	pos int
	err error
	// skip: strings are checked and passed over, not copied (str returns
	// ""), for /code, which takes the names from the index.
	skip bool
}

func newDecoder(b []byte) *decoder { return &decoder{b: b, s: string(b)} }

// newSkipDecoder is a decoder that copies no strings (see skip).
func newSkipDecoder(b []byte) *decoder { return &decoder{b: b, skip: true} }

func (d *decoder) fail() { d.err, d.pos = errRecordFormat, len(d.b) }

func (d *decoder) byte() byte {
	if d.err != nil || d.pos >= len(d.b) {
		d.fail()
		return 0
	}
	d.pos++
	return d.b[d.pos-1]
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.pos += n
	return v
}

// small reads a count or size that must not exceed limit.
func (d *decoder) small(limit int) int {
	v := d.uint()
	if v > uint64(limit) {
		d.fail()
		return 0
	}
	return int(v)
}

// span reads a length and checks that many bytes follow.
func (d *decoder) span() int {
	v := d.uint()
	if d.err == nil && v > uint64(len(d.b)-d.pos) {
		d.fail()
	}
	if d.err != nil {
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.span()
	if d.err != nil {
		return ""
	}
	d.pos += n
	if d.skip {
		return ""
	}
	return d.s[d.pos-n : d.pos]
}

// strIs reads a string and reports whether it is want, copying nothing.
func (d *decoder) strIs(want string) bool {
	n := d.span()
	if d.err != nil {
		return false
	}
	d.pos += n
	return string(d.b[d.pos-n:d.pos]) == want
}

// name reads a string that is a kind's or algorithm's name: a copy even
// when skipping strings (they are rare: the common ones are codes).
func (d *decoder) name() string {
	if !d.skip {
		return d.str()
	}
	return string(d.raw())
}

// fixed returns the next n bytes as a slice of the decoded buffer.
func (d *decoder) fixed(n int) []byte {
	if d.err != nil || n > len(d.b)-d.pos {
		d.fail()
		return make([]byte, n)
	}
	d.pos += n
	return d.b[d.pos-n : d.pos : d.pos]
}

// kind reads a kind given as code (kindCodes), or spelled out for code 0.
func (d *decoder) kind(code uint64) otp.Kind {
	switch {
	case code == 0:
		return otp.Kind(d.name())
	case code < uint64(len(kindCodes)):
		return kindCodes[code]
	}
	d.fail()
	return ""
}

// raw returns the next length-prefixed bytes as a slice of the decoded
// buffer itself, for callers that own that buffer.
func (d *decoder) raw() []byte {
	n := d.span()
	if d.err != nil {
		return nil
	}
	d.pos += n
	return d.b[d.pos-n : d.pos : d.pos]
}

func (d *decoder) time() time.Time {
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
		v, n := binary.Varint(d.b[d.pos:])
		if n <= 0 {
			d.fail()
			return time.Time{}
		}
		d.pos += n
		return time.Unix(0, v).UTC()
	}
	d.fail()
	return time.Time{}
}

// done reports the first error, or trailing bytes.
func (d *decoder) done() error {
	if d.err == nil && d.pos != len(d.b) {
		return errRecordFormat
	}
	return d.err
}
