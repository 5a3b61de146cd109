package telegram

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestPeekUpdateID(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		id   int64
		ok   bool
	}{
		{"first field", `{"update_id":123,"message":{"text":"{\"update_id\":9}"}}`, 123, true},
		{"only field", ` {"update_id":5}`, 5, true},
		{"later field", `{"message":{"text":"hi"},"update_id":7}`, 7, true},
		{"spaces", `{ "update_id" : 8 }`, 8, true},
		{"string id", `{"update_id":"x"}`, 0, false},
		{"no id", `{"message":{}}`, 0, false},
		{"not json", `{"update_id":12`, 0, false},
		{"too big", `{"update_id":99999999999999999999}`, 0, false},
		{"empty", ``, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := peekUpdateID([]byte(tc.raw))
			if id != tc.id || ok != tc.ok {
				t.Errorf("peekUpdateID(%s) = %d, %v; want %d, %v", tc.raw, id, ok, tc.id, tc.ok)
			}
		})
	}
}

// recordRT records what reaches the transport.
type recordRT struct {
	length int64
	body   []byte
}

func (r *recordRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.length = req.ContentLength
	r.body, _ = io.ReadAll(req.Body)
	req.Body.Close()
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

func TestBufferBodies(t *testing.T) {
	for _, tc := range []struct {
		name       string
		size       int
		wantLength bool
	}{
		{"small", 1000, true},
		{"at the limit", maxBufferedBody, true},
		{"large streams", maxBufferedBody + 5000, false},
		{"empty", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := bytes.Repeat([]byte("0123456789"), tc.size/10+1)[:tc.size]
			pr, pw := io.Pipe()
			go func() {
				// Many small writes, as the library's multipart writer does.
				for b := want; len(b) > 0; {
					n := min(len(b), 37)
					pw.Write(b[:n])
					b = b[n:]
				}
				pw.Close()
			}()
			req, err := http.NewRequest(http.MethodPost, "http://fake/botX/sendMessage", pr)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recordRT{}
			if _, err := (bufferBodies{rec}).RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.body, want) {
				t.Errorf("body of %d bytes arrived as %d bytes", len(want), len(rec.body))
			}
			if got := rec.length == int64(tc.size); got != tc.wantLength {
				t.Errorf("ContentLength %d for a %d-byte body", rec.length, tc.size)
			}
			if req.ContentLength != 0 {
				t.Error("the caller's request was changed")
			}
		})
	}
	t.Run("known length passes through", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, "http://fake/", strings.NewReader("abc"))
		rec := &recordRT{}
		if _, err := (bufferBodies{rec}).RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if rec.length != 3 || string(rec.body) != "abc" {
			t.Errorf("got %d %q", rec.length, rec.body)
		}
	})
}
