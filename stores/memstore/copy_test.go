package memstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// A write to a huge session builds its new values map without the shard's
// lock: another session in the same shard is read and written meanwhile.
func TestUpdateCopiesOutsideTheLock(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	big, small := newID(t), anon(t, s, now)
	huge := make(map[string][]byte, 100_000)
	for i := range 100_000 {
		huge["k"+strconv.Itoa(i)] = []byte("v")
	}
	_, err := s.Create(ctx, big, &store.Record{Meta: meta(now, ""), Values: huge}, store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)

	built, resume := make(chan struct{}), make(chan struct{})
	s.SetValuesBuiltHook(func(id string) {
		if id == big {
			close(built)
			<-resume
		}
	})
	errc := make(chan error, 1)
	go func() {
		errc <- s.Update(ctx, big, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"new": []byte("1")}})
	}()
	<-built
	// The Update of big has built its map and is parked before swapping it
	// in. Were it holding the shard's lock, these would wait for it.
	done := make(chan error, 1)
	go func() {
		if _, err := s.Load(ctx, small, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}); err != nil {
			done <- err
			return
		}
		done <- s.Update(ctx, small, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"n": []byte("2")}})
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		close(resume)
		<-errc
		t.Fatal("a read and a write of another session in the shard waited for the Update copying a 100,000-key session: the shard lock was held during the copy")
	}
	close(resume)
	require.NoError(t, <-errc)
	rec, err := s.Load(ctx, big, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour})
	require.NoError(t, err)
	assert.Len(t, rec.Values, 100_001)
	assert.Equal(t, "1", string(rec.Values["new"]))
}

// An Update whose source map was replaced while it built its copy starts
// again from the new map: a concurrent write to another key survives.
func TestUpdateRetriesOnConcurrentWrite(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	id := anon(t, s, now)
	var parked atomic.Bool
	built, resume := make(chan struct{}), make(chan struct{})
	s.SetValuesBuiltHook(func(string) {
		if parked.CompareAndSwap(false, true) {
			close(built)
			<-resume
		}
	})
	errc := make(chan error, 1)
	go func() {
		errc <- s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"a": []byte("1")}})
	}()
	<-built
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"b": []byte("2")}})
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		close(resume)
		<-errc
		t.Fatal("a second Update of the session waited for the first one's copy: the shard lock was held during the copy")
	}
	close(resume)
	require.NoError(t, <-errc)
	rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"n": "1", "a": "1", "b": "2"}, strvals(rec.Values), "a concurrent Update was lost")
}

// Renew builds the moved record's values outside the lock as well.
func TestRenewCopiesOutsideTheLock(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	big, small := newID(t), anon(t, s, now)
	huge := make(map[string][]byte, 100_000)
	for i := range 100_000 {
		huge["k"+strconv.Itoa(i)] = []byte("v")
	}
	_, err := s.Create(ctx, big, &store.Record{Meta: meta(now, ""), Values: huge}, store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	built, resume := make(chan struct{}), make(chan struct{})
	s.SetValuesBuiltHook(func(id string) {
		if id == big {
			close(built)
			<-resume
		}
	})
	next := newID(t)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Renew(ctx, big, next, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"new": []byte("1")}},
			store.WriteOptions{Now: now, Idle: time.Hour})
		errc <- err
	}()
	<-built
	done := make(chan error, 1)
	go func() {
		_, err := s.Load(ctx, small, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour})
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		close(resume)
		<-errc
		t.Fatal("a read of another session in the shard waited for the Renew copying a 100,000-key session")
	}
	close(resume)
	require.NoError(t, <-errc)
	rec, err := s.Load(ctx, next, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour})
	require.NoError(t, err)
	assert.Len(t, rec.Values, 100_001)
}
