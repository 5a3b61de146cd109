package telegram

import (
	"bytes"
	"io"
	"net/http"
)

// maxBufferedBody is how much of a request body bufferBodies reads ahead.
// Text messages, edits and deletes are a few KiB; larger bodies (files the
// bot sends) are still streamed after the first part.
const maxBufferedBody = 256 << 10

// bufferBodies is a RoundTripper for the library's requests. go-telegram/bot
// writes each request's multipart form through an io.Pipe, so the body has
// no length and net/http sends it chunked: one write system call per form
// field. Under load that was a fifth of the bot's CPU (perf, BenchmarkLoad).
// Reading a small body first lets it go out with a Content-Length in one
// write.
type bufferBodies struct{ next http.RoundTripper }

func (t bufferBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength != 0 {
		return t.next.RoundTrip(r)
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
	if err != nil {
		r.Body.Close()
		return nil, err
	}
	// A RoundTripper must not change the caller's request: send a copy.
	r2 := r.Clone(r.Context())
	if len(buf) <= maxBufferedBody {
		r.Body.Close()
		r2.Body = io.NopCloser(bytes.NewReader(buf))
		r2.ContentLength = int64(len(buf))
		r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
		if len(buf) == 0 {
			// A zero length with a body would mean "unknown" again.
			r2.Body, r2.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
		}
	} else {
		r2.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	}
	return t.next.RoundTrip(r2)
}

// libraryClient is c with request bodies buffered (see bufferBodies).
func libraryClient(c *http.Client) *http.Client {
	cc := *c
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cc.Transport = bufferBodies{next}
	return &cc
}

// CloseIdleConnections passes through, so http.Client.CloseIdleConnections
// still reaches the transport.
func (t bufferBodies) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
