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

// TestBadData writes, with SQL, rows this package never writes. Every
// operation that reads the session reports an error wrapping ErrCorrupt:
// never a panic, never a session, never "not found" (which the manager
// would take as an answer about the session). Deleting removes what is
// there without failing.
func TestBadData(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		set  string // the SET clause of an UPDATE of the session's row
		// listFails: ListUser and Walk fail on it (a session row with bad
		// metadata); the others are neither listed nor walked (not a
		// session row, or one the listing's own filter leaves out).
		listFails bool
	}{
		{"UnknownState", "state = 'zombie'", false},
		{"InfiniteLastSeen", "last_seen = 'infinity'", true},
		{"InfiniteCreated", "created_at = '-infinity'", true},
		{"InfiniteIssued", "issued_at = 'infinity'", true},
		{"InfiniteDeadline", "deadline = 'infinity'", true},
		{"NegativeInfiniteExpiry", "expires_at = '-infinity'", false},
		{"SessionWithSuccessor", "successor = '" + newID() + "'", true},
		{"ForwardingWithoutSuccessor", "state = 'forward'", false},
		{"ForwardingToGarbage", "state = 'forward', successor = 'not an id'", false},
		{"ForwardingForever", "state = 'forward', successor = '" + newID() + "', deadline = 'infinity'", false},
		{"MarkerToGarbage", "state = 'gone', successor = 'x'", false},
		{"NegativeOwnIdle", "idle_us = -1", true},
		{"OwnIdleBeyondADuration", "idle_us = 9223372036854775807", true},
		{"MetadataNotAnObject", `metadata = '["device", "phone"]'`, true},
		{"MetadataJSONNull", "metadata = 'null'", true},
		{"MetadataString", `metadata = '"phone"'`, true},
		{"MetadataNotStrings", `metadata = '{"device": "phone", "n": 1}'`, true},
		{"MetadataNested", `metadata = '{"device": {"kind": "phone"}}'`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, pool, schema := newStore(t, pgstore.Options{JanitorInterval: -1})
			sessions, _ := pgstore.Options{Schema: schema}.Tables()
			ctx := context.Background()
			now := time.Now()
			id := create(t, s, now, "alice", "a", "1")
			_, err := pool.Exec(ctx, "UPDATE "+sessions+" SET "+c.set+" WHERE id = $1", id)
			require.NoError(t, err)

			rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
			assert.ErrorIs(t, err, pgstore.ErrCorrupt, "Load")
			assert.Nil(t, rec, "Load returned a record from corrupt data")
			_, err = s.Load(ctx, id, store.LoadOptions{Now: now.Add(time.Minute), Idle: idle, TouchAfter: 0})
			assert.ErrorIs(t, err, pgstore.ErrCorrupt, "Load due to touch")

			err = s.Update(ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("b", "2")})
			assert.ErrorIs(t, err, pgstore.ErrCorrupt, "Update")
			assert.ErrorIs(t, s.Update(ctx, id, nil), pgstore.ErrCorrupt, "Update with no change")

			next := newID()
			_, err = s.Renew(ctx, id, next, &store.Change{Now: now, Idle: idle}, wopts(now))
			assert.ErrorIs(t, err, pgstore.ErrCorrupt, "Renew")
			_, err = s.Load(ctx, next, at(now))
			assert.ErrorIs(t, err, store.ErrNotFound, "Renew of corrupt data created its new ID")

			_, ok, err := s.Take(ctx, id, "a", at(now))
			assert.ErrorIs(t, err, pgstore.ErrCorrupt, "Take")
			assert.False(t, ok)

			entries, err := s.ListUser(ctx, "alice", now)
			if c.listFails {
				assert.ErrorIs(t, err, pgstore.ErrCorrupt, "ListUser")
			} else {
				assert.NoError(t, err, "ListUser")
				assert.Empty(t, entries, "ListUser listed what is not a session")
			}
			var walked []string
			err = s.Walk(ctx, now, func(e store.Entry) error { walked = append(walked, e.ID); return nil })
			if c.listFails {
				assert.ErrorIs(t, err, pgstore.ErrCorrupt, "Walk")
			} else {
				assert.NoError(t, err, "Walk")
			}
			assert.Empty(t, walked, "Walk showed what is not a session")

			// Revoking and deleting remove what is there without failing.
			_, err = s.DeleteUser(ctx, "alice", "")
			assert.NoError(t, err, "DeleteUser")
			_, err = s.Delete(ctx, id)
			assert.NoError(t, err, "Delete")
			var n int
			require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+sessions+" WHERE id = $1", id).Scan(&n))
			assert.Zero(t, n, "the corrupt row is still there")
		})
	}
}

// TestForeignValuesAreTheCoresBusiness: a value holding bytes the core
// cannot decode is returned as it is. Values are opaque to the store; the
// core's typed getters report them (core.ErrDecode).
func TestForeignValuesAreTheCoresBusiness(t *testing.T) {
	t.Parallel()
	s, pool, schema := newStore(t, pgstore.Options{})
	_, values := pgstore.Options{Schema: schema}.Tables()
	ctx := context.Background()
	now := time.Now()
	id := create(t, s, now, "", "a", "1")
	_, err := pool.Exec(ctx, "UPDATE "+values+" SET value = '\\xff00'::bytea WHERE session_id = $1", id)
	require.NoError(t, err)
	rec, err := s.Load(ctx, id, at(now))
	require.NoError(t, err)
	assert.Equal(t, []byte{0xff, 0x00}, rec.Values["a"])
}

// TestWrongTables: a schema whose tables are someone else's (same names,
// other columns) makes every operation a failure that names the cause,
// never an outcome and never a panic.
func TestWrongTables(t *testing.T) {
	t.Parallel()
	srv, pool := sharedPool(t)
	schema := srv.Schema(t)
	o := pgstore.Options{Schema: schema, JanitorInterval: -1}
	sessions, values := o.Tables()
	_, err := pool.Exec(context.Background(), "CREATE TABLE "+sessions+" (id int PRIMARY KEY, name text); CREATE TABLE "+values+" (x int)")
	require.NoError(t, err)
	s, err := pgstore.New(context.Background(), pool, o)
	require.NoError(t, err)
	for _, name := range operations {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		err := everyOperation(ctx, s, name, newID(), "alice")
		cancel()
		requireFailure(t, err, name)
		assert.Contains(t, err.Error(), "SQLSTATE", "%s: the server's error", name)
	}
}
