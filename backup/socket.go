package backup

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/authbot/authbot/storage/datadir"
)

// Why a socket: bbolt takes an exclusive flock on the database for the
// process that writes it, and a read-only open needs a shared lock, so while
// `serve` runs no second process can open the file at all. Copying the file
// without the lock could catch a half-written page. Instead `serve` answers
// snapshot requests on a unix socket in the data dir (mode 0600, so only
// the owner of the data dir can connect): it copies the database inside one
// read transaction (bbolt's tx.WriteTo: a consistent snapshot while writes
// go on) and streams it. Only sealed records cross the socket; the master
// key never does — `authbot backup` reads it from the data dir or the
// environment itself.
//
// Wire format, server to client, after the client sent "snapshot\n":
// chunks of uint32 big-endian length + bytes, a zero length, then a status
// byte (0 ok, 1 failed followed by a short error text). The trailer lets the
// client tell a complete snapshot from a server that died mid-copy.

// SocketName is the socket's file name inside the data dir.
const SocketName = datadir.SocketName

const (
	request   = "snapshot\n"
	chunkSize = 64 << 10
	maxErrLen = 1 << 10
)

// SnapshotFunc writes a consistent copy of the database to w.
type SnapshotFunc func(ctx context.Context, w io.Writer) (int64, error)

// Server answers snapshot requests on a unix socket.
type Server struct {
	ln       net.Listener
	snapshot SnapshotFunc
	wg       sync.WaitGroup
}

// Listen creates the socket at path (removing a stale one left by a crash)
// with mode 0600.
func Listen(path string, snapshot SnapshotFunc) (*Server, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("backup socket %s: another authbot is serving it", path)
	}
	_ = os.Remove(path) // stale socket from a process that was killed
	// The data dir is 0700, so nobody else can reach the socket even in the
	// moment before the chmod (a process-wide umask change would race with
	// other goroutines creating files).
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("backup socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("backup socket: %w", err)
	}
	return &Server{ln: ln, snapshot: snapshot}, nil
}

// Serve answers requests until ctx is done, then waits for the ones in
// flight and removes the socket.
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		s.ln.Close()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("backup socket: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.answer(ctx, c)
		}()
	}
}

func (s *Server) answer(ctx context.Context, c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, len(request))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != request {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	cw := &chunkWriter{w: bufio.NewWriterSize(c, chunkSize+4)}
	_, err := s.snapshot(ctx, cw)
	if err == nil {
		err = cw.flush()
	}
	trailer := []byte{0, 0, 0, 0, 0}
	if err != nil {
		msg := err.Error()
		if len(msg) > maxErrLen {
			msg = msg[:maxErrLen]
		}
		trailer = append([]byte{0, 0, 0, 0, 1}, msg...)
	}
	_, _ = cw.w.Write(trailer)
	_ = cw.w.Flush()
}

type chunkWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), chunkSize-len(c.buf))
		c.buf = append(c.buf, p[:take]...)
		p = p[take:]
		if len(c.buf) == chunkSize {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(c.buf)))
	if _, err := c.w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := c.w.Write(c.buf); err != nil {
		return err
	}
	c.buf = c.buf[:0]
	return nil
}

// ErrNoServer means nothing answers on the socket: no `serve` is running
// (or it predates backup sockets), so the database can be opened directly.
var ErrNoServer = errors.New("no authbot serve is answering on the backup socket")

// Fetch asks the server on the socket at path for a snapshot and writes it
// to w, returning its size. ErrNoServer if nobody listens.
func Fetch(ctx context.Context, path string, w io.Writer) (int64, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNoServer, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := io.WriteString(c, request); err != nil {
		return 0, fmt.Errorf("backup socket: %w", err)
	}
	r := bufio.NewReaderSize(c, chunkSize+4)
	var total int64
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return total, fmt.Errorf("backup socket: snapshot cut off: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 {
			break
		}
		if n > chunkSize || total+int64(n) > MaxDBSize {
			return total, errors.New("backup socket: malformed snapshot stream")
		}
		m, err := io.CopyN(w, r, int64(n))
		total += m
		if err != nil {
			return total, fmt.Errorf("backup socket: %w", err)
		}
	}
	status, err := r.ReadByte()
	if err != nil {
		return total, fmt.Errorf("backup socket: snapshot cut off: %w", err)
	}
	if status != 0 {
		msg, _ := io.ReadAll(io.LimitReader(r, maxErrLen))
		return total, fmt.Errorf("backup socket: the server failed: %s", msg)
	}
	return total, nil
}
