package transfer

import (
	"errors"
	"strings"
)

// reasoned is an error of this package with detail: reason is the whole
// text for a person (the sentinel's words and what follows them), errs
// the sentinels errors.Is matches.
type reasoned struct {
	reason string
	errs   []error
}

func (e *reasoned) Error() string   { return e.reason }
func (e *reasoned) Unwrap() []error { return e.errs }

// withReason is an error that reads reason and matches errs.
func withReason(reason string, errs ...error) error { return &reasoned{reason: reason, errs: errs} }

// sentinels are the errors whose own text is for a person.
var sentinels = []error{ErrUnknownFormat, ErrUnsupported, ErrPasswordRequired, ErrWrongPassword, ErrTooLarge,
	ErrCorruptFile, ErrImage, ErrNeedFile, ErrWeakPassword, ErrQRNotOTP}

// Reason is the person text of an error this package returned, as a
// sentence without its final period: what is wrong, and often what to do.
// It never includes what a caller wrapped around the error. "" for an
// error from elsewhere, whose text is not written for a person.
func Reason(err error) string {
	var (
		r  *reasoned
		nf *NeedFileError
	)
	switch {
	case errors.As(err, &r):
		return upperFirst(r.reason)
	case errors.As(err, &nf):
		return upperFirst(nf.Error())
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return upperFirst(s.Error())
		}
	}
	return ""
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
