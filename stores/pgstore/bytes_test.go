package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// TestAnyBytes: user IDs, value keys and the binding are the
// application's strings, which need not be UTF-8 nor free of NUL; they are
// kept as bytes and come back exactly. The user agent, IP, label and
// metadata, kept as text (jsonb) for display, come back with such bytes
// replaced.
func TestAnyBytes(t *testing.T) {
	t.Parallel()
	s, _, _ := newStore(t, pgstore.Options{})
	ctx := context.Background()
	now := time.Now()
	const user, key = "ann\x00\xff\xfe", "k\x00\xc3"
	m := meta(now, user)
	m.UserAgent, m.IP = "Mozilla\xff\x00/5.0", "192.0.2.1"
	m.Label, m.Binding = "laptop\x00\xff", "\x00\xff\xfe digest"
	m.Metadata = map[string]string{"k\x00": "v\xff", "ok": "\u2603"}
	id := newID()
	_, err := s.Create(ctx, id, &store.Record{Meta: m, Values: map[string][]byte{key: {0, 1, 2}}}, wopts(now))
	require.NoError(t, err)

	rec, err := s.Load(ctx, id, at(now))
	require.NoError(t, err)
	assert.Equal(t, user, rec.Meta.UserID)
	assert.Equal(t, []byte{0, 1, 2}, rec.Values[key])
	assert.Equal(t, "Mozilla\uFFFD\uFFFD/5.0", rec.Meta.UserAgent)
	assert.Equal(t, "laptop\uFFFD\uFFFD", rec.Meta.Label)
	assert.Equal(t, map[string]string{"k\uFFFD": "v\uFFFD", "ok": "\u2603"}, rec.Meta.Metadata)
	assert.Equal(t, m.Binding, rec.Meta.Binding)

	entries, err := s.ListUser(ctx, user, now)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, id, entries[0].ID)
	others, err := s.ListUser(ctx, "ann", now)
	require.NoError(t, err)
	assert.Empty(t, others, "a prefix of the user ID is another user")

	v, ok, err := s.Take(ctx, id, key, at(now))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []byte{0, 1, 2}, v)
	deleted, err := s.DeleteUser(ctx, user, "")
	require.NoError(t, err)
	assert.Equal(t, []string{id}, deleted)
}
