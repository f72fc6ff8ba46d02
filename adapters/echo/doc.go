// Package sessionecho is the Echo (v4) adapter for sessionkit.
//
// New returns an echo.MiddlewareFunc to install with Use:
//
//	m, err := core.New(core.Config{})
//	e := echo.New()
//	e.Use(sessionecho.New(m))
//
// A handler reaches the session with From(c) (it is also under ContextKey
// for c.Get), and service code handed c.Request().Context() finds it with
// core.FromContext.
//
// The session is committed at the last moment the response headers can
// still change: when the handler's response starts (c.JSON, c.String, a
// stream, a Flush or a Hijack: the middleware wraps Response().Writer for
// the length of the handler), or right after the handler returns when it
// wrote nothing (it returned an error for the HTTPErrorHandler to render,
// or an empty 200). The new cookie or token
// header goes into Response().Header(), which is where c.SetCookie puts
// cookies too. Bodies are never buffered.
//
// Session errors are returned as *echo.HTTPError (503 for a store failure)
// with the error in Internal, so errors.Is(err, core.ErrStore) holds and the
// app's HTTPErrorHandler sees them. With Echo's default handler the body is
// the same generic JSON every sessionkit adapter sends. One case cannot go
// through the HTTPErrorHandler: a commit that fails when the handler starts
// writing. Echo is then already inside Response.WriteHeader, so the
// middleware sends the default 503 in place of the handler's response,
// fails the handler's writes, and returns the error afterwards for the
// HTTPErrorHandler to see (it cannot answer a committed response).
//
// A handler that hijacks the connection has its session saved before the
// hijack, with no new token issued: none could reach the client. Over
// HTTP/2, where no connection can be hijacked, the hijack fails with
// http.ErrNotSupported and commits nothing, so the handler's ordinary
// answer still carries the session.
package sessionecho
