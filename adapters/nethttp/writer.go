package sessionhttp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/sessionkit/sessionkit/internal/adapterkit"
)

// errCommitFailed is returned to a handler that keeps writing after the
// session commit failed and the error response went out instead.
var errCommitFailed = errors.New("sessionhttp: response replaced by the session error handler")

// writer commits the session at the last moment it can still set headers:
// the first WriteHeader, Write, Flush, ReadFrom or Hijack.
type writer struct {
	http.ResponseWriter
	commit  adapterkit.Commit
	r       *http.Request
	onError ErrorHandler
}

// SessionError answers a failed commit through the server's own writer:
// ours drops what the handler writes from then on.
func (w *writer) SessionError(err error) { w.onError(w.ResponseWriter, w.r, err) }

func (w *writer) WriteHeader(code int) {
	// 1xx responses are not the final headers; the session waits for those.
	if !w.commit.Started() && code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.commit.BeforeHeaders() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.commit.BeforeHeaders() {
		return 0, errCommitFailed
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the server's sendfile path for io.Copy into the response.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if !w.commit.BeforeHeaders() {
		return 0, errCommitFailed
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(w.ResponseWriter, src)
}

// FlushError is what http.ResponseController.Flush calls.
func (w *writer) FlushError() error {
	if !w.commit.BeforeHeaders() {
		return errCommitFailed
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush implements http.Flusher for code that type-asserts it.
func (w *writer) Flush() { _ = w.FlushError() }

// Hijack saves the session before the connection leaves net/http's hands.
// Headers never go out on a hijacked connection, so no new token is issued
// (adapterkit.Commit.BeforeHijack).
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.commit.BeforeHijack() {
		return nil, nil, errCommitFailed
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer for
// deadlines and full duplex.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
