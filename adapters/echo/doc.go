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
// Session errors go to the ErrorHandler (WithErrorHandler) as an
// *echo.HTTPError (503 for a store failure) with the error in Internal, so
// errors.Is(err, core.ErrStore) holds; the default returns it, so the
// app's HTTPErrorHandler answers it. With Echo's default HTTPErrorHandler
// the body is the same generic JSON every sessionkit adapter sends. A
// commit that fails when the handler starts writing cannot be returned in
// time: Echo is then already inside Response.WriteHeader. The
// ErrorHandler is called there and then, and what it writes goes out in
// place of the handler's response (the generic 503 if it writes nothing);
// the handler's writes fail, and what the ErrorHandler returned is
// returned after the handler. That is what can still be customised once
// the headers are going out: the status, headers and body of the answer,
// through the ErrorHandler; not the HTTPErrorHandler, which skips a
// committed response.
//
// A handler that hijacks the connection has its session saved before the
// hijack, with no new token issued: none could reach the client. Over
// HTTP/2, where no connection can be hijacked, the hijack fails with
// http.ErrNotSupported and commits nothing, so the handler's ordinary
// answer still carries the session.
package sessionecho
