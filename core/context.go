package core

import "context"

type contextKey struct{}

// sessionContext is the context node that carries a session. One is
// embedded in every Session, so putting the session into the request's
// context costs no allocation beyond the Session itself.
type sessionContext struct {
	context.Context
	s *Session
}

func (c *sessionContext) Value(key any) any {
	if key == (contextKey{}) {
		return c.s
	}
	return c.Context.Value(key)
}

// NewContext returns a copy of ctx that carries s. Adapters call it; service
// code reads the session back with FromContext.
func NewContext(ctx context.Context, s *Session) context.Context {
	if s.ctx.Context == nil {
		// First use: the node embedded in s (s is per request, and the
		// adapter calls this once).
		s.ctx = sessionContext{Context: ctx, s: s}
		return &s.ctx
	}
	return context.WithValue(ctx, contextKey{}, s)
}

// FromContext returns the request's session, or nil when ctx carries none
// (the middleware is not installed on this route).
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s
}
