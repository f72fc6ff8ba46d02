package sessionechov5

import (
	"github.com/labstack/echo/v5"

	"github.com/sessionkit/sessionkit/adapterkit"
)

// storeMessage is the HTTPError's message: what an HTTPErrorHandler that
// renders HTTPError.Message itself sends.
const storeMessage = "session store unavailable"

// sessionError is what the ErrorHandler gets: an *echo.HTTPError to
// errors.As (carrying the status and the cause), and a json.Marshaler of
// the generic body, found first by Echo's default HTTPErrorHandler, which
// sends such an error's JSON as it is. Echo v5's HTTPError.Message is a
// string, so the generic body cannot be its message as on v4.
type sessionError struct {
	http *echo.HTTPError
}

func newError(cause error) *sessionError {
	he := echo.NewHTTPError(adapterkit.ErrorStatus(cause), storeMessage).Wrap(cause).(*echo.HTTPError)
	return &sessionError{http: he}
}

// Error is the HTTPError's text, which names the cause: for logs, never a
// response body.
func (e *sessionError) Error() string { return e.http.Error() }

// StatusCode is the HTTPError's status, for echo.HTTPStatusCoder.
func (e *sessionError) StatusCode() int { return e.http.Code }

// MarshalJSON is the generic body every sessionkit adapter sends.
func (e *sessionError) MarshalJSON() ([]byte, error) {
	return adapterkit.ErrorJSON(adapterkit.ErrorBody).MarshalJSON()
}

// Unwrap is the HTTPError, which unwraps to the cause (core.ErrStore).
func (e *sessionError) Unwrap() error { return e.http }

var _ error = (*sessionError)(nil)
