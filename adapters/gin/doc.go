// Package sessiongin is the Gin adapter for sessionkit.
//
// New returns a gin.HandlerFunc to install with Use:
//
//	m, err := core.New(core.Config{})
//	r := gin.New()
//	r.Use(sessiongin.New(m))
//
// A handler reaches the session with From(c) (it is also under ContextKey
// for c.Get), and service code finds it with core.FromContext, handed
// c.Request.Context() or the *gin.Context itself (with or without the
// engine's ContextWithFallback: the session is under a string key Gin's
// Value consults either way).
//
// The session is committed just before the response headers are first
// written. Gin defers the real header write until the first Write,
// WriteString, WriteHeaderNow, Flush or Hijack on c.Writer, so that is where
// the middleware's writer commits; WriteHeader (c.Status) only records the
// status, as in Gin itself. The wrapper keeps the whole gin.ResponseWriter
// interface and Unwrap, so streaming, Hijack and http.ResponseController
// work as without it, and bodies are never buffered. That interface claims
// Hijacker even over HTTP/2, where no connection can be hijacked: there
// Hijack fails with http.ErrNotSupported and commits nothing, so the
// handler's ordinary answer still carries the session.
//
// A session error goes the Gin way: the error handler (WithErrorHandler)
// records it with c.Error, aborts the chain and answers; the default answer
// is 503 with a generic JSON body. When the commit fails at the moment the
// handler starts its response, the error handler's response goes out
// instead and the handler's writes fail.
package sessiongin
