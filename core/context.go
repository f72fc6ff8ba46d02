package core

import "context"

type contextKey struct{}

// NewContext returns a copy of ctx that carries s. Adapters call it; service
// code reads the session back with FromContext.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}

// FromContext returns the request's session, or nil when ctx carries none
// (the middleware is not installed on this route).
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s
}
