package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// loginColumns is a row's login columns as SQL sees them.
type loginColumns struct {
	idleUS     *int64
	remembered bool
	label      string
	device     *string // metadata->>'device'
	metadata   *string // metadata::text
	binding    []byte
}

func readLoginColumns(t *testing.T, pool *pgxpool.Pool, sessions, id string) loginColumns {
	t.Helper()
	var c loginColumns
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT idle_us, remembered, label, metadata->>'device',
		metadata::text, binding FROM `+sessions+` WHERE id = $1`, id).
		Scan(&c.idleUS, &c.remembered, &c.label, &c.device, &c.metadata, &c.binding))
	return c
}

// TestLoginColumns: what a login chose is in columns an operator can query
// (the idle timeout in microseconds, the metadata as a jsonb object), the
// forwarding entry a rotation leaves keeps them, and rows written by hand
// in the other forms the columns allow (idle_us 0, an empty object, any
// Unicode escaped in JSON) read as the same thing.
func TestLoginColumns(t *testing.T) {
	t.Parallel()
	s, pool, schema := newStore(t, pgstore.Options{JanitorInterval: -1})
	sessions, _ := pgstore.Options{Schema: schema}.Tables()
	ctx := context.Background()
	now := time.Now()
	m := meta(now, "alice")
	m.Idle, m.Remembered, m.Label = 7*24*time.Hour, true, "Work laptop \u2014 \u2603"
	m.Metadata = map[string]string{"device": "phone", "\U0001F600": "\u05e9\u05dc\u05d5\u05dd", `quo"te`: "<&>"}
	m.Binding = "b1nd1ng"
	m.ExpiresAt = now.Add(30 * 24 * time.Hour)
	id := newID()
	_, err := s.Create(ctx, id, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)

	c := readLoginColumns(t, pool, sessions, id)
	require.NotNil(t, c.idleUS)
	assert.Equal(t, int64(7*24*time.Hour/time.Microsecond), *c.idleUS)
	assert.True(t, c.remembered)
	assert.Equal(t, m.Label, c.label)
	require.NotNil(t, c.device)
	assert.Equal(t, "phone", *c.device)
	assert.Equal(t, []byte("b1nd1ng"), c.binding)
	var deadline time.Time
	require.NoError(t, pool.QueryRow(ctx, "SELECT deadline FROM "+sessions+" WHERE id = $1", id).Scan(&deadline))
	assert.WithinDuration(t, now.Add(m.Idle), deadline, time.Millisecond, "the deadline is the session's own")

	// A rotation with grace: the forwarding entry keeps the columns, and
	// the successor has them.
	next := newID()
	_, err = s.Renew(ctx, id, next, &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, c, readLoginColumns(t, pool, sessions, id), "the forwarding entry")
	assert.Equal(t, c, readLoginColumns(t, pool, sessions, next), "the successor")

	// By hand: idle_us 0 is the call's idle timeout, like NULL; an empty
	// object is no metadata; JSON escapes are the characters they stand for.
	_, err = pool.Exec(ctx, `UPDATE `+sessions+` SET idle_us = 0, binding = NULL,
		metadata = '{"\ud83d\ude00": "\u2603"}' WHERE id = $1`, next)
	require.NoError(t, err)
	rec, err := s.Load(ctx, next, at(now.Add(idle-time.Minute)))
	require.NoError(t, err)
	assert.Zero(t, rec.Meta.Idle)
	assert.Empty(t, rec.Meta.Binding)
	assert.Equal(t, map[string]string{"\U0001F600": "\u2603"}, rec.Meta.Metadata)
	_, err = s.Load(ctx, next, at(now.Add(idle+time.Minute)))
	assert.ErrorIs(t, err, store.ErrExpired, "idle_us 0: the call's idle timeout")
	_, err = pool.Exec(ctx, `UPDATE `+sessions+` SET metadata = '{}' WHERE id = $1`, next)
	require.NoError(t, err)
	rec, err = s.Load(ctx, next, at(now))
	require.NoError(t, err)
	assert.Nil(t, rec.Meta.Metadata)

	// A new login without metadata, binding or an idle timeout of its own
	// clears the columns: NULL, not empty values.
	plain := meta(now, "alice")
	require.NoError(t, s.Update(ctx, next, &store.Change{Now: now, Idle: idle, Meta: &plain}))
	c = readLoginColumns(t, pool, sessions, next)
	assert.Nil(t, c.idleUS)
	assert.Nil(t, c.metadata)
	assert.Nil(t, c.binding)
	assert.False(t, c.remembered)
}
