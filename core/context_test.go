package core_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
)

// stringKeyContext is a framework context that keeps its own values under
// string keys only and consults nothing else, as *gin.Context does
// without ContextWithFallback.
type stringKeyContext struct {
	context.Context
	keys map[string]any
}

func (c stringKeyContext) Value(key any) any {
	if k, ok := key.(string); ok {
		return c.keys[k]
	}
	return nil
}

// FromContext finds the session under NewContext's key, and in a
// framework context that carries it under ContextKey; anything else under
// that key, or nothing, is no session.
func TestFromContextKeys(t *testing.T) {
	m, err := core.New(core.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	s, err := m.Load(context.Background(), &core.Request{})
	require.NoError(t, err)

	assert.Same(t, s, core.FromContext(core.NewContext(context.Background(), s)))
	framework := stringKeyContext{Context: context.Background(), keys: map[string]any{core.ContextKey: s}}
	assert.Same(t, s, core.FromContext(framework))
	assert.Nil(t, core.FromContext(stringKeyContext{Context: context.Background(), keys: map[string]any{core.ContextKey: "not a session"}}))
	assert.Nil(t, core.FromContext(context.Background()))
}
