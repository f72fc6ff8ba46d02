package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// indexKeys are user's three index keys under prefix.
func indexKeys(prefix, user string) (index, expiry, evicting string) {
	index, expiry = redisstore.Options{Prefix: prefix}.UserKeys(user)
	return index, expiry, index + ":e"
}

// TestEvictingSetEmptied: a session the cap evicted leaves the evicting
// set, and the expiry index, once its deletion is done, instead of
// lingering there (read by every ListUser, revoked again by DeleteUser)
// until its lifetime would have ended.
func TestEvictingSetEmptied(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	s, prefix := newStore(t, client)
	ctx := context.Background()
	now := time.Now()
	m := meta(now.Add(-time.Minute), "alice")
	oldest := newID(t)
	_, err := s.Create(ctx, oldest, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)
	kept := newID(t)
	evicted, err := s.Create(ctx, kept, &store.Record{Meta: meta(now, "alice")},
		store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 1})
	require.NoError(t, err)
	require.Equal(t, []string{oldest}, evicted)

	index, expiry, evicting := indexKeys(prefix, "alice")
	assert.Empty(t, client.SMembers(ctx, evicting).Val(), "the evicting set after the eviction")
	assert.Equal(t, []string{kept}, client.ZRange(ctx, expiry, 0, -1).Val(), "the expiry index after the eviction")
	assert.Equal(t, []string{kept}, client.ZRange(ctx, index, 0, -1).Val())
}
