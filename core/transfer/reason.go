package transfer

import (
	"errors"
	"strings"
)

// reasoned is an error of this package with detail: reason is the whole
// text for a person (the sentinel's words and what follows them), errs
// the sentinels errors.Is matches, detail that text for a translation.
type reasoned struct {
	reason string
	errs   []error
	detail Detail
}

func (e *reasoned) Error() string   { return e.reason }
func (e *reasoned) Unwrap() []error { return e.errs }

// with names the reason's sentence for translations (see Detail).
func (e *reasoned) with(id string, args ...any) *reasoned {
	e.detail = Detail{ID: id, Args: args}
	return e
}

// withReason is an error that reads reason and matches errs.
func withReason(reason string, errs ...error) *reasoned { return &reasoned{reason: reason, errs: errs} }

// Detail is a reason's sentence as a translation says it: ID names the
// sentence (bots/commands words it as its catalogue's
// "transfer.detail."+ID) and Args are its values as name, value pairs
// (numbers and file names, never a secret). This package stays free of
// languages: its own English text is what Reason returns and the log
// shows. A reason without a Detail is said by its sentinel's sentence
// alone in other languages: the detail of a damaged file's inner layout
// (which field, which encoding) is for the log, not for a person.
type Detail struct {
	ID   string
	Args []any
}

// DetailOf is the Detail of an error this package returned, when it has
// one.
func DetailOf(err error) (Detail, bool) {
	var (
		r  *reasoned
		nf *NeedFileError
	)
	switch {
	case errors.As(err, &r) && r.detail.ID != "":
		return r.detail, true
	case errors.As(err, &nf) && nf.Detail.ID != "":
		return nf.Detail, true
	}
	return Detail{}, false
}

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
