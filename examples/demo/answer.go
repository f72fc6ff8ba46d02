package demo

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sessionkit/sessionkit/core"
)

// Errors the handlers meet, beside those of ReadCount, Increment, CheckUser
// and CheckValue. Answer gives each its status and body.
var (
	// ErrNotLoggedIn: a route for logged-in users (401).
	ErrNotLoggedIn = errors.New(MsgNotLoggedIn)
	// ErrNoSuchSession: DELETE /sessions/{id} for an id that is not one of
	// the user's sessions (404).
	ErrNoSuchSession = errors.New(MsgNoSuchSession)
	// ErrBadForm: a login body (or query string) that does not parse as a
	// form (400).
	ErrBadForm = errors.New(MsgBadForm)
	// ErrBodyTooLarge: a body over MaxBodyBytes (413), for the frameworks
	// whose limit is not net/http's MaxBytesReader, which Answer knows too.
	ErrBodyTooLarge = errors.New(MsgBodyTooLarge)
	// ErrBadPath: a path parameter with a malformed escape (400), which
	// net/http refuses in the request line before any handler runs.
	ErrBadPath = errors.New(MsgBadPath)
)

// NoValueError is the error of GET /values/{name} for a name the session
// holds no value under (404).
type NoValueError struct{ Name string }

func (e *NoValueError) Error() string { return fmt.Sprintf("no value named %q", e.Name) }

// NoValue returns the NoValueError for name.
func NoValue(name string) error { return &NoValueError{Name: name} }

// PathParam unescapes a path parameter that a router matched on the
// escaped path, as net/http's ServeMux unescapes a wildcard: /values/a%2Fb
// names "a/b", and /values/a+b names "a+b" (a query's unescaping would
// make it "a b").
func PathParam(escaped string) (string, error) {
	v, err := url.PathUnescape(escaped)
	if err != nil {
		return "", ErrBadPath
	}
	return v, nil
}

// FormError is the error of a login form that net/http's Request.ParseForm
// (or a binding built on it) refused: too large when the body hit its
// http.MaxBytesReader, malformed otherwise.
func FormError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return ErrBadForm
}

// answers are the statuses of the errors above and of the other packages'
// sentinels; the body of each is its text.
var answers = []struct {
	err    error
	status int
}{
	{ErrUserRequired, http.StatusBadRequest},
	{ErrUserTooLong, http.StatusBadRequest},
	{ErrUserNotText, http.StatusBadRequest},
	{ErrBodyNotText, http.StatusBadRequest},
	{ErrBadForm, http.StatusBadRequest},
	{ErrBadPath, http.StatusBadRequest},
	{ErrNotLoggedIn, http.StatusUnauthorized},
	{ErrCrossOrigin, http.StatusForbidden},
	{ErrNoSuchSession, http.StatusNotFound},
	{ErrCountNotNumber, http.StatusConflict},
	{ErrCountOverflow, http.StatusConflict},
	{ErrBodyTooLarge, http.StatusRequestEntityTooLarge},
}

// Answer is the status and body the demo contract gives err, an error a
// handler met. ok is false for an error the contract does not name: a
// framework's own (an unknown route, say), which the demo answers in its
// framework's way, or an unexpected one, answered here with 500 and a
// generic body. Whatever is 5xx the demo logs, since the body tells the
// client nothing: a store failure is 503 "session store unavailable".
func Answer(err error) (status int, body Error, ok bool) {
	for _, a := range answers {
		if errors.Is(err, a.err) {
			return a.status, ErrorOf(a.err.Error()), true
		}
	}
	var (
		noValue  *NoValueError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &noValue):
		return http.StatusNotFound, ErrorOf(noValue.Error()), true
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, ErrorOf(MsgBodyTooLarge), true
	case errors.Is(err, core.ErrLoginOptions):
		// The demo passes no metadata: the label is what LoginWith refused.
		return http.StatusBadRequest, ErrorOf(MsgLabelInvalid), true
	case errors.Is(err, core.ErrTooLarge):
		// The session's own caps (core.Config.MaxKeys, MaxValueBytes): the
		// client asked for more than a session holds.
		return http.StatusRequestEntityTooLarge, ErrorOf(MsgSessionFull), true
	case errors.Is(err, core.ErrStore):
		return http.StatusServiceUnavailable, ErrorOf(MsgStoreUnavailable), true
	}
	return http.StatusInternalServerError, ErrorOf(MsgInternal), false
}
