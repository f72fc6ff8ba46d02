package storetest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

func (f factory) take(t *testing.T) {
	t.Run("Value", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "flash", "saved", "keep", "1")
		v, ok, err := h.s.Take(h.ctx, id, "flash", at(now))
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "saved", string(v))
		rec := h.get(id, at(now))
		assert.Equal(t, map[string]string{"keep": "1"}, strs(rec.Values), "only the taken key went")
		assertTime(t, now, rec.Meta.LastSeen, "Take moved LastSeen")

		v, ok, err = h.s.Take(h.ctx, id, "flash", at(now))
		require.NoError(t, err)
		assert.False(t, ok, "a key taken once is gone")
		assert.Nil(t, v)
		_, ok, err = h.s.Take(h.ctx, id, "never", at(now))
		require.NoError(t, err)
		assert.False(t, ok)
		assert.Equal(t, map[string]string{"keep": "1"}, strs(h.get(id, at(now)).Values))
	})

	t.Run("Missing", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		_, ok, err := h.s.Take(h.ctx, newID(t), "flash", at(now))
		require.ErrorIs(t, err, store.ErrNotFound)
		assert.False(t, ok)

		id := h.session(now, "", "flash", "x")
		_, err = h.s.Delete(h.ctx, id)
		require.NoError(t, err)
		_, _, err = h.s.Take(h.ctx, id, "flash", at(now))
		require.ErrorIs(t, err, store.ErrNotFound, "Take after Delete")
		h.missing(id, now, "Take recreated a deleted session")
	})

	t.Run("Expired", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "flash", "x")
		later := store.LoadOptions{Now: now.Add(2 * idle), Idle: idle, TouchAfter: noTouch}
		_, ok, err := h.s.Take(h.ctx, id, "flash", later)
		require.ErrorIs(t, err, store.ErrNotFound, "Take of a record past its idle deadline")
		assert.False(t, ok)
	})

	t.Run("Forwarding", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "", "flash", "x"), newID(t)
		_, err := h.s.Renew(h.ctx, old, next, change(now), store.WriteOptions{Now: now, Idle: idle, Grace: time.Hour})
		require.NoError(t, err)
		_, ok, err := h.s.Take(h.ctx, old, "flash", at(now))
		var moved *store.ErrRenewed
		require.True(t, errors.As(err, &moved), "Take on a forwarding entry: got %v", err)
		assert.Equal(t, next, moved.Successor)
		assert.False(t, ok)
		assert.Equal(t, map[string]string{"flash": "x"}, strs(h.get(next, at(now)).Values), "nothing taken from the successor")
	})

	t.Run("ExactlyOnce", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "flash", "once")
		var got atomic.Int32
		var g group
		for range 16 {
			g.Go(func() {
				v, ok, err := h.s.Take(h.ctx, id, "flash", at(now))
				assert.NoError(t, err)
				if ok {
					assert.Equal(t, "once", string(v))
					got.Add(1)
				}
			})
		}
		g.Wait()
		assert.Equal(t, int32(1), got.Load(), "concurrent Takes of one key: exactly one gets the value")
	})
}
