package adapterkit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
)

// ErrResponseReplaced is returned to a handler that keeps writing after the
// session commit failed and the error response went out instead.
var ErrResponseReplaced = errors.New("sessionkit: response replaced by the session error response")

// Writer wraps an http.ResponseWriter and commits the session at the last
// moment headers can still change: the first WriteHeader, Write, Flush,
// ReadFrom or Hijack. It is embedded by the adapters whose framework writes
// through an http.ResponseWriter it lets middleware replace (net/http,
// Echo); the embedding type is Commit's ErrorResponder and answers a failed
// commit through Writer.ResponseWriter, since the Writer itself drops every
// write after a failure.
type Writer struct {
	http.ResponseWriter
	Commit Commit
}

func (w *Writer) WriteHeader(code int) {
	// 1xx responses are not the final headers; the session waits for those.
	if !w.Commit.Started() && code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.Commit.BeforeHeaders() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *Writer) Write(b []byte) (int, error) {
	if !w.Commit.BeforeHeaders() {
		return 0, ErrResponseReplaced
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the server's sendfile path for io.Copy into the response.
func (w *Writer) ReadFrom(src io.Reader) (int64, error) {
	if !w.Commit.BeforeHeaders() {
		return 0, ErrResponseReplaced
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(w.ResponseWriter, src)
}

// FlushError is what http.ResponseController.Flush calls.
func (w *Writer) FlushError() error {
	if !w.Commit.BeforeHeaders() {
		return ErrResponseReplaced
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush implements http.Flusher for code that type-asserts it.
func (w *Writer) Flush() { _ = w.FlushError() }

// Hijack saves the session before the connection leaves the server's hands.
// Headers never go out on a hijacked connection, so no new token is issued
// (Commit.BeforeHijack).
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.Commit.BeforeHijack() {
		return nil, nil, ErrResponseReplaced
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer for
// deadlines and full duplex.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
