package sessiongin

import (
	"bufio"
	"fmt"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/adapterkit"
)

// writer commits the session where Gin really sends the headers: the first
// WriteHeaderNow, Write, WriteString, Flush or Hijack. Everything else
// (Status, Size, Written, CloseNotify, Pusher, Header) is Gin's own.
type writer struct {
	gin.ResponseWriter
	commit  adapterkit.Commit
	c       *gin.Context
	onError ErrorHandler
}

// SessionError answers a failed commit through Gin's own writer: ours drops
// everything once the commit has failed.
func (w *writer) SessionError(err error) {
	w.c.Writer = w.ResponseWriter
	w.onError(w.c, err)
	w.c.Abort()
	w.c.Writer = w
}

var _ gin.ResponseWriter = (*writer)(nil)

// WriteHeader only records the status in Gin, so it is not the header
// moment; once the error response replaced the handler's, the handler
// cannot change its status either.
func (w *writer) WriteHeader(code int) {
	if w.commit.Failed() {
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) WriteHeaderNow() {
	if w.commit.BeforeHeaders() {
		w.ResponseWriter.WriteHeaderNow()
	}
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.commit.BeforeHeaders() {
		return 0, adapterkit.ErrResponseReplaced
	}
	return w.ResponseWriter.Write(b)
}

func (w *writer) WriteString(s string) (int, error) {
	if !w.commit.BeforeHeaders() {
		return 0, adapterkit.ErrResponseReplaced
	}
	return w.ResponseWriter.WriteString(s)
}

// Flush sends the headers with the first chunk, so the cookie goes too.
func (w *writer) Flush() {
	if w.commit.BeforeHeaders() {
		w.ResponseWriter.Flush()
	}
}

// errHijackNotSupported answers a Hijack on a connection that cannot be
// hijacked (HTTP/2), as http.ResponseController does.
var errHijackNotSupported = fmt.Errorf("sessiongin: the connection cannot be hijacked: %w", http.ErrNotSupported)

// Hijack saves the session before the connection leaves net/http's hands.
// Headers never go out on a hijacked connection, so no new token is issued
// (adapterkit.Commit.BeforeHijack). gin.ResponseWriter must claim Hijacker
// whatever the server's writer is, so Hijack first checks that the
// connection can be hijacked at all: on HTTP/2 it fails with
// http.ErrNotSupported before committing, and the handler's ordinary
// answer still carries the session (Gin's own Hijack would panic there).
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !hijackable(w.ResponseWriter) {
		return nil, nil, errHijackNotSupported
	}
	if !w.commit.BeforeHijack() {
		return nil, nil, adapterkit.ErrResponseReplaced
	}
	return w.ResponseWriter.Hijack()
}

// hijackable reports whether the server's writer under rw can be hijacked.
// Every gin.ResponseWriter claims Hijacker, so those are looked through
// with Unwrap (Gin's own writer has it) down to the first writer that is
// not one. A gin.ResponseWriter that does not unwrap cannot be seen
// through: its own Hijack decides.
func hijackable(rw http.ResponseWriter) bool {
	for {
		if _, ok := rw.(gin.ResponseWriter); !ok {
			return adapterkit.CanHijack(rw)
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return true
		}
		rw = u.Unwrap()
	}
}

// Unwrap lets http.ResponseController reach the server's writer (through
// Gin's) for deadlines and full duplex.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
