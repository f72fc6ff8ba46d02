package memstore_test

import (
	"fmt"
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
	waitBuilt(t, built)
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
	waitBuilt(t, built)
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
	waitBuilt(t, built)
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

// Take builds the map without the taken key outside the lock as well, and
// of two Takes that built from the same map only one gets the value.
func TestTakeCopiesOutsideTheLock(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	big, small := newID(t), anon(t, s, now)
	huge := make(map[string][]byte, 100_000)
	for i := range 100_000 {
		huge["k"+strconv.Itoa(i)] = []byte("v")
	}
	huge["flash"] = []byte("once")
	_, err := s.Create(ctx, big, &store.Record{Meta: meta(now, ""), Values: huge}, store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	var parked atomic.Bool
	built, resume := make(chan struct{}), make(chan struct{})
	s.SetValuesBuiltHook(func(id string) {
		if id == big && parked.CompareAndSwap(false, true) {
			close(built)
			<-resume
		}
	})
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}
	type taken struct {
		v   []byte
		ok  bool
		err error
	}
	first := make(chan taken, 1)
	go func() {
		v, ok, err := s.Take(ctx, big, "flash", lo)
		first <- taken{v, ok, err}
	}()
	waitBuilt(t, built)
	done := make(chan taken, 1)
	go func() {
		if _, err := s.Load(ctx, small, lo); err != nil {
			done <- taken{err: err}
			return
		}
		// A second Take of the key, while the first is parked with its map
		// built: it takes the value, and the first must then find it gone.
		v, ok, err := s.Take(ctx, big, "flash", lo)
		done <- taken{v, ok, err}
	}()
	var second taken
	select {
	case second = <-done:
		require.NoError(t, second.err)
	case <-time.After(10 * time.Second):
		close(resume)
		<-first
		t.Fatal("a read of another session and a second Take waited for a Take copying a 100,000-key session: the shard lock was held during the copy")
	}
	close(resume)
	one := <-first
	require.NoError(t, one.err)
	assert.True(t, second.ok, "the second Take did not get the value")
	assert.Equal(t, "once", string(second.v))
	assert.False(t, one.ok, "both Takes got the value")
	rec, err := s.Load(ctx, big, lo)
	require.NoError(t, err)
	assert.Len(t, rec.Values, 100_000)
	assert.NotContains(t, rec.Values, "flash")
}

// waitBuilt waits for a write parked by the hook, failing rather than
// hanging when the write never builds a map where the hook can see it.
func waitBuilt(t *testing.T, built <-chan struct{}) {
	t.Helper()
	select {
	case <-built:
	case <-time.After(10 * time.Second):
		t.Fatal("the write never reached the point where it has built its new values")
	}
}

// A write that built its values unlocked finds its entry moved when it
// comes back: a removal in the same shard meanwhile made tidy move the
// shard's last entry, the one it peeked at, into the emptied slot. It
// must build again from the entry where it now is, and lose nothing.
func TestWriteFollowsAnEntryTidyMoved(t *testing.T) {
	now := time.Now()
	w := store.WriteOptions{Now: now, Idle: time.Hour}
	for _, write := range []struct {
		name string
		// noValues: the moved entry holds no values map, so its old slot
		// looks like it, and only the entry's identity tells the write.
		noValues bool
		do       func(s *memstore.Store, id string) (string, error)
		want     map[string]string
	}{
		{"Update", false, func(s *memstore.Store, id string) (string, error) {
			return id, s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"k": []byte("v")}})
		}, map[string]string{"n": "1", "k": "v"}},
		{"Update without values", true, func(s *memstore.Store, id string) (string, error) {
			return id, s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"k": []byte("v")}})
		}, map[string]string{"k": "v"}},
		{"Take", false, func(s *memstore.Store, id string) (string, error) {
			v, ok, err := s.Take(ctx, id, "n", store.LoadOptions{Now: now, Idle: time.Hour})
			if err == nil && (!ok || string(v) != "1") {
				err = fmt.Errorf("Take gave %q, %v", v, ok)
			}
			return id, err
		}, map[string]string{}},
		{"Renew", false, func(s *memstore.Store, id string) (string, error) {
			next := newID(t)
			_, err := s.Renew(ctx, id, next, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"k": []byte("v")}}, w)
			return next, err
		}, map[string]string{"n": "1", "k": "v"}},
	} {
		t.Run(write.name, func(t *testing.T) {
			s := memstore.New(memstore.Options{Shards: 1, SweepInterval: -1})
			defer s.Close()
			// More removals than the shard keeps holes for, so that tidy
			// moves its last entry into one of them.
			first := make([]string, memstore.KeptHoles+1)
			for i := range first {
				first[i] = anon(t, s, now)
			}
			last := newID(t) // the shard's last slot
			var vals map[string][]byte
			if !write.noValues {
				vals = map[string][]byte{"n": []byte("1")}
			}
			_, err := s.Create(ctx, last, &store.Record{Meta: meta(now, ""), Values: vals}, w)
			require.NoError(t, err)
			builds := 0
			s.SetValuesBuiltHook(func(id string) {
				if builds++; builds == 1 {
					for _, id := range first {
						existed, err := s.Delete(ctx, id)
						require.NoError(t, err)
						require.True(t, existed)
					}
				}
			})
			id, err := write.do(s, last)
			require.NoError(t, err)
			assert.Equal(t, 2, builds, "the write did not notice its entry had moved")
			rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: time.Hour})
			require.NoError(t, err)
			got := map[string]string{}
			for k, v := range rec.Values {
				got[k] = string(v)
			}
			assert.Equal(t, write.want, got)
			assert.Equal(t, 1, s.Len())
			require.NoError(t, s.CheckInvariants())
		})
	}
}
