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

// NewContext returns a copy of ctx that carries s. Adapter API: adapters
// call it; service code reads the session back with FromContext.
func NewContext(ctx context.Context, s *Session) context.Context {
	if s.ctx.Context == nil {
		// First use: the node embedded in s (s is per request, and the
		// adapter calls this once).
		s.ctx = sessionContext{Context: ctx, s: s}
		return &s.ctx
	}
	return context.WithValue(ctx, contextKey{}, s)
}

// ContextKey is the string key under which a framework's own request
// context carries the session, where that context is a context.Context
// that looks up only string keys in its own store: Gin's *gin.Context
// (c.Get) without the engine's ContextWithFallback, Fiber v3's fiber.Ctx
// (c.Locals). FromContext tries it after the key NewContext uses, so a
// service function handed the framework's context itself finds the
// session. Adapter API: handlers never need it.
const ContextKey = "sessionkit.session"

// FromContext returns the request's session, or nil when ctx carries none
// (the middleware is not installed on this route). ctx is the request's
// context.Context (r.Context(), Fiber's c.Context()), or a framework's
// context that is one itself (*gin.Context, fiber.Ctx): every adapter
// puts the session where both find it.
func FromContext(ctx context.Context) *Session {
	if s, ok := ctx.Value(contextKey{}).(*Session); ok {
		return s
	}
	// A framework context consults its own store only for string keys
	// (Gin without ContextWithFallback), where the adapter keeps the
	// session too.
	s, _ := ctx.Value(ContextKey).(*Session)
	return s
}
