package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// TestBadData writes, with the raw client, what this package never writes
// under a session key. Every operation that reads the session reports an
// error wrapping ErrCorrupt: never a panic, never a session, never "not
// found" (which the manager would take as an answer about the session).
func TestBadData(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	ctx := context.Background()
	now := time.Now()

	hset := func(key string, kv ...any) error { return client.HSet(ctx, key, kv...).Err() }
	replace := func(key string, write func() error) error {
		return errors.Join(client.Del(ctx, key).Err(), write())
	}
	cases := []struct {
		name    string
		corrupt func(key string) error
		// listed: ListUser fails on it (a record with bad metadata); the
		// others are not records, and an index entry naming one is skipped.
		listFails bool
		// updates: Update, which reads only the metadata it applies (the
		// kind of record, its times, its own idle timeout), writes through
		// it; every read that returns the metadata reports it.
		updates bool
	}{
		{"NonNumericLastSeen", func(k string) error { return hset(k, "m:ls", "yesterday") }, true, false},
		{"NonNumericDeadline", func(k string) error { return hset(k, "m:dl", "soon") }, true, false},
		{"NonNumericCreated", func(k string) error { return hset(k, "m:ct", "12abc") }, true, false},
		{"FloatExpiry", func(k string) error { return hset(k, "m:exp", "1e300") }, true, false},
		{"PaddedLastSeen", func(k string) error { return hset(k, "m:ls", " 1700000000000") }, true, false},
		{"TruncatedMetadata", func(k string) error { return client.HDel(ctx, k, "m:exp", "m:it").Err() }, true, false},
		{"NonNumericOwnIdle", func(k string) error { return hset(k, "m:idle", "a week") }, true, false},
		{"ZeroOwnIdle", func(k string) error { return hset(k, "m:idle", "0") }, true, false},
		{"BadRemembered", func(k string) error { return hset(k, "m:rem", "yes") }, true, false},
		{"JSONMetadata", func(k string) error { return hset(k, "m:md", `{"device":"phone"}`) }, true, true},
		{"TruncatedMetadataField", func(k string) error { return hset(k, "m:md", "6:device,5:pho") }, true, true},
		{"ForeignHash", func(k string) error {
			return replace(k, func() error { return hset(k, "name", "someone else's") })
		}, false, false},
		{"StringKey", func(k string) error { return client.Set(ctx, k, "not a hash", time.Hour).Err() }, true, false},
		{"ListKey", func(k string) error {
			return replace(k, func() error { return client.RPush(ctx, k, "x").Err() })
		}, true, false},
		{"BrokenForwardingEntry", func(k string) error {
			return replace(k, func() error { return hset(k, "m:next", newID(t), "m:gend", "never", "m:at", "0") })
		}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, prefix := newStore(t, client)
			id := create(t, s, now, "alice", "a", "1")
			require.NoError(t, c.corrupt(prefix+id))

			rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
			assert.ErrorIs(t, err, redisstore.ErrCorrupt, "Load")
			assert.Nil(t, rec, "Load returned a record from corrupt data")
			_, err = s.Load(ctx, id, store.LoadOptions{Now: now.Add(time.Minute), Idle: idle, TouchAfter: 0})
			assert.ErrorIs(t, err, redisstore.ErrCorrupt, "Load due to touch")

			err = s.Update(ctx, id, &store.Change{Now: now, Idle: idle, Set: map[string][]byte{"b": []byte("2")}})
			if c.updates {
				assert.NoError(t, err, "Update")
			} else {
				assert.ErrorIs(t, err, redisstore.ErrCorrupt, "Update")
			}

			next := newID(t)
			_, err = s.Renew(ctx, id, next, &store.Change{Now: now, Idle: idle}, wopts(now))
			assert.ErrorIs(t, err, redisstore.ErrCorrupt, "Renew")
			_, err = s.Load(ctx, next, store.LoadOptions{Now: now, Idle: idle})
			assert.ErrorIs(t, err, store.ErrNotFound, "Renew of corrupt data created its new ID")

			entries, err := s.ListUser(ctx, "alice", now)
			if c.listFails {
				assert.ErrorIs(t, err, redisstore.ErrCorrupt, "ListUser")
			} else {
				assert.NoError(t, err, "ListUser")
				assert.Empty(t, entries, "ListUser listed what is not a record")
			}

			// Revoking and deleting remove what is there without failing.
			_, err = s.DeleteUser(ctx, "alice", "")
			assert.NoError(t, err, "DeleteUser")
			_, err = s.Delete(ctx, id)
			assert.NoError(t, err, "Delete")
		})
	}
}

// TestForeignValuesAreTheCoresBusiness: a value field holding bytes the core
// cannot decode is returned as it is. Values are opaque to the store; the
// core's typed getters report them (core.ErrDecode).
func TestForeignValuesAreTheCoresBusiness(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	s, prefix := newStore(t, client)
	ctx := context.Background()
	now := time.Now()
	id := create(t, s, now, "", "a", "1")
	require.NoError(t, client.HSet(ctx, prefix+id, "v:a", "\xff\x00garbage").Err())
	rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	require.NoError(t, err)
	assert.Equal(t, []byte("\xff\x00garbage"), rec.Values["a"])
}

// TestCorruptUserIndex: a user index key of the wrong type is an error for
// the calls that use it, not a panic.
func TestCorruptUserIndex(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	ctx := context.Background()
	now := time.Now()
	for _, which := range []string{"Index", "Expiry"} {
		t.Run(which, func(t *testing.T) {
			t.Parallel()
			s, prefix := newStore(t, client)
			index, expiry := redisstore.Options{Prefix: prefix}.UserKeys("alice")
			key := index
			if which == "Expiry" {
				key = expiry
			}
			require.NoError(t, client.Set(ctx, key, "junk", time.Hour).Err())

			_, err := s.ListUser(ctx, "alice", now)
			assert.ErrorIs(t, err, redisstore.ErrCorrupt, "ListUser")
			_, err = s.DeleteUser(ctx, "alice", "")
			assert.ErrorIs(t, err, redisstore.ErrCorrupt, "DeleteUser")
			_, err = s.Create(ctx, newID(t), &store.Record{Meta: meta(now, "alice")}, wopts(now))
			assert.ErrorIs(t, err, redisstore.ErrCorrupt, "Create")
		})
	}
}
