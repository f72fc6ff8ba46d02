package sessionfiber

import (
	"github.com/gofiber/fiber/v2"

	"github.com/sessionkit/sessionkit/adapterkit"
)

// sessionError is a *fiber.Error to Fiber and the session error to
// errors.Is, so an app can branch on core.ErrStore in its ErrorHandler
// while Fiber's default one answers with the right status.
type sessionError struct {
	fiber *fiber.Error
	cause error
}

func newError(cause error) *sessionError {
	return &sessionError{fiber: fiber.NewError(adapterkit.ErrorStatus(cause)), cause: cause}
}

// Error is the generic status text: Fiber's default error handler sends it
// to the client as the body, and the cause names store internals.
func (e *sessionError) Error() string { return e.fiber.Message }

// Unwrap lists the *fiber.Error first, so errors.As finds it before
// anything a store error may wrap.
func (e *sessionError) Unwrap() []error { return []error{e.fiber, e.cause} }
