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
//
// The handler is given Wrap's result, not the Writer: it claims
// http.Flusher, http.Hijacker and io.ReaderFrom only when the server's
// writer can do them, as the server's own writer does.
type Writer struct {
	http.ResponseWriter
	Commit Commit
}

// Wrap returns what the handler writes to: w, in the variant that adds
// exactly the optional interfaces the wrapped writer has. A wrapper that
// claimed an interface the server lacks would send the handler down a path
// that fails after the commit it triggers: on HTTP/2 a Hijack would commit
// as for a hijacked connection, dropping a login's new token, then fail
// with http.ErrNotSupported, and the handler's ordinary answer would go
// out without the cookie.
//
// Flush and Hijack count when http.ResponseController would reach them
// through Unwrap: a variant without them sends ResponseController down
// Unwrap past this writer, where it would flush or hijack without a
// commit. ReadFrom counts only on the wrapped writer itself, since calling
// one further down would bypass the middleware in between (a compressor).
//
// Each variant is a struct holding only w, so storing it in the interface
// allocates nothing: call Wrap once per request.
func (w *Writer) Wrap() http.ResponseWriter {
	flush, hijack := canFlush(w.ResponseWriter), CanHijack(w.ResponseWriter)
	_, readFrom := w.ResponseWriter.(io.ReaderFrom)
	switch {
	case flush && hijack && readFrom:
		return flushHijackReadFromWriter{w}
	case flush && hijack:
		return flushHijackWriter{w}
	case flush && readFrom:
		return flushReadFromWriter{w}
	case hijack && readFrom:
		return hijackReadFromWriter{w}
	case flush:
		return flushWriter{w}
	case hijack:
		return hijackWriter{w}
	case readFrom:
		return readFromWriter{w}
	}
	return w
}

// WriteHeader commits before the final status goes out.
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

// Write commits before the first byte goes out.
func (w *Writer) Write(b []byte) (int, error) {
	if !w.Commit.BeforeHeaders() {
		return 0, ErrResponseReplaced
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer for
// deadlines and full duplex.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readFrom keeps the server's sendfile path for io.Copy into the response.
// Only variants over a writer that has ReadFrom offer it.
func (w *Writer) readFrom(src io.Reader) (int64, error) {
	if !w.Commit.BeforeHeaders() {
		return 0, ErrResponseReplaced
	}
	return w.ResponseWriter.(io.ReaderFrom).ReadFrom(src)
}

// flushError commits, then flushes the server's writer.
func (w *Writer) flushError() error {
	if !w.Commit.BeforeHeaders() {
		return ErrResponseReplaced
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// hijack saves the session before the connection leaves the server's
// hands. Headers never go out on a hijacked connection, so no new token is
// issued (Commit.BeforeHijack). Only variants over a writer that can
// hijack offer it, so the commit happens only for a hijack that can
// succeed.
func (w *Writer) hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.Commit.BeforeHijack() {
		return nil, nil, ErrResponseReplaced
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// canFlush reports whether http.ResponseController can flush rw.
func canFlush(rw http.ResponseWriter) bool {
	for {
		switch t := rw.(type) {
		case interface{ FlushError() error }, http.Flusher:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return false
		}
	}
}

// CanHijack reports whether http.ResponseController can hijack rw's
// connection: whether rw, or a writer it unwraps to, is an http.Hijacker.
// HTTP/1's writer is; HTTP/2's is not. A wrapper that claims Hijacker
// whatever it wraps (Gin's must) makes this true; see through such
// wrappers with their Unwrap first.
func CanHijack(rw http.ResponseWriter) bool {
	for {
		switch t := rw.(type) {
		case http.Hijacker:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return false
		}
	}
}

// The variants. Each holds only the *Writer, so it fits in an interface
// value without an allocation, and adds the methods of its interfaces.

type flushWriter struct{ *Writer }

func (w flushWriter) Flush()            { _ = w.flushError() }
func (w flushWriter) FlushError() error { return w.flushError() }

type hijackWriter struct{ *Writer }

func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

type readFromWriter struct{ *Writer }

func (w readFromWriter) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

type flushHijackWriter struct{ *Writer }

func (w flushHijackWriter) Flush()                                       { _ = w.flushError() }
func (w flushHijackWriter) FlushError() error                            { return w.flushError() }
func (w flushHijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

type flushReadFromWriter struct{ *Writer }

func (w flushReadFromWriter) Flush()                                { _ = w.flushError() }
func (w flushReadFromWriter) FlushError() error                     { return w.flushError() }
func (w flushReadFromWriter) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

type hijackReadFromWriter struct{ *Writer }

func (w hijackReadFromWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w hijackReadFromWriter) ReadFrom(src io.Reader) (int64, error)        { return w.readFrom(src) }

type flushHijackReadFromWriter struct{ *Writer }

func (w flushHijackReadFromWriter) Flush()            { _ = w.flushError() }
func (w flushHijackReadFromWriter) FlushError() error { return w.flushError() }
func (w flushHijackReadFromWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.hijack()
}
func (w flushHijackReadFromWriter) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }
