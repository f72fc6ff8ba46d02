package adapterkit

// ErrorReturn routes a session error for a framework whose handlers return
// errors to a central handler (Echo's HTTPErrorHandler). Until the handler
// has returned, the framework is inside its own response writing when a
// commit fails (the handler started its response), past where an error can
// be returned, so the adapter must answer there and then; once the handler
// has returned and nothing was written, the error is better returned, so
// the app's own error handler answers it. Embed one in the adapter's
// per-request value.
type ErrorReturn struct {
	returned bool
	err      error
}

// HandlerReturned marks the moment the handler has returned: a failure
// from now on is only recorded.
func (e *ErrorReturn) HandlerReturned() { e.returned = true }

// Record keeps err for Err and reports whether the adapter must answer it
// now, because the handler is still running and writing.
func (e *ErrorReturn) Record(err error) (answerNow bool) {
	e.err = err
	return !e.returned
}

// Err is the session error recorded, nil if none: the middleware returns
// it, after the handler, for the framework's error handler to see (and, if
// nothing was written yet, to answer).
func (e *ErrorReturn) Err() error { return e.err }
