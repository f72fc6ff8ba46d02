// Package sessionhttp is the net/http adapter for sessionkit.
//
// New returns standard middleware, func(http.Handler) http.Handler, that
// works with http.ServeMux, chi and anything else built on net/http:
//
//	m, err := core.New(core.Config{})
//	mux := http.NewServeMux()
//	http.ListenAndServe(addr, sessionhttp.New(m)(mux))
//
// A handler reaches the session with From(r), and service code deeper down
// with core.FromContext(ctx).
//
// The session is committed just before the response headers are first
// written (WriteHeader, Write, Flush, ReadFrom, Hijack), so cookies go out
// with the headers and the body is never buffered. The wrapped writer
// claims http.Flusher, http.Hijacker and io.ReaderFrom only when the
// server's writer can do them (HTTP/2's cannot hijack, so neither can
// ours), and has Unwrap, so http.ResponseController reaches every feature
// of the server's writer. A hijack that cannot happen fails with
// http.ErrNotSupported and commits nothing: the handler's ordinary answer
// still carries the session.
package sessionhttp
