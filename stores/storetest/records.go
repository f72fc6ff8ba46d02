package storetest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

func (f factory) create(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		// Distinct times, so a store that swaps two fields fails.
		m := store.Meta{
			UserID:    "alice",
			CreatedAt: now.Add(-3 * time.Second),
			IssuedAt:  now.Add(-2 * time.Second),
			LastSeen:  now.Add(-time.Second),
			ExpiresAt: now.Add(lifetime),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
			IP:        "2001:db8::1",
		}
		id := newID(t)
		h.put(id, &store.Record{Meta: m, Values: vals("a", "1", "b", "two")}, wopts(now))

		rec := h.get(id, at(now))
		assertMeta(t, m, rec.Meta, "Load after Create")
		assert.Equal(t, map[string]string{"a": "1", "b": "two"}, strs(rec.Values))
	})

	t.Run("NilAndEmptyValues", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		none := newID(t)
		h.put(none, &store.Record{Meta: meta(now, "")}, wopts(now))
		assert.Empty(t, h.get(none, at(now)).Values, "record created with nil Values")

		// An empty value is a value: the key must survive.
		empty := newID(t)
		h.put(empty, &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"e": {}, "n": nil}}, wopts(now))
		got := h.get(empty, at(now)).Values
		require.Contains(t, got, "e")
		require.Contains(t, got, "n")
		assert.Empty(t, got["e"])
		assert.Empty(t, got["n"])
	})

	t.Run("BinaryValuesAndOddKeys", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		bin := make([]byte, 256)
		for i := range bin {
			bin[i] = byte(i)
		}
		want := map[string][]byte{
			"bin": bin, "a:b": []byte("colon"), "{tag}": []byte("hash tag"),
			"with space": []byte("x"), "ключ": []byte("значение"),
		}
		v := make(map[string][]byte, len(want))
		for k, b := range want {
			v[k] = append([]byte(nil), b...)
		}
		id := newID(t)
		h.put(id, &store.Record{Meta: meta(now, ""), Values: v}, wopts(now))
		assert.Equal(t, want, h.get(id, at(now)).Values)
	})

	t.Run("UnknownID", func(t *testing.T) {
		h := f.begin(t)
		h.missing(newID(t), time.Now(), "never created")
	})

	t.Run("TakenID", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice", "a", "1")

		evicted, err := h.s.Create(h.ctx, id, &store.Record{Meta: meta(now, "bob"), Values: vals("b", "2")},
			store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 1})
		require.ErrorIs(t, err, store.ErrExists)
		assert.Empty(t, evicted)

		rec := h.get(id, at(now))
		assertMeta(t, meta(now, "alice"), rec.Meta, "original after refused Create")
		assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values))
		assert.Empty(t, h.list("bob", now), "refused Create indexed its user")
		assert.Equal(t, []string{id}, h.listIDs("alice", now))
	})

	t.Run("TakenAnonymous", func(t *testing.T) {
		// The path every new session takes: no user.
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "a", "1")
		_, err := h.s.Create(h.ctx, id, &store.Record{Meta: meta(now, ""), Values: vals("b", "2")}, wopts(now))
		require.ErrorIs(t, err, store.ErrExists)
		assert.Equal(t, map[string]string{"a": "1"}, strs(h.get(id, at(now)).Values), "a refused Create changed the record")
	})

	t.Run("TakenByForwardingEntry", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "", "a", "1"), newID(t)
		_, err := h.s.Renew(h.ctx, old, next, change(now), store.WriteOptions{Now: now, Idle: idle, Grace: time.Hour})
		require.NoError(t, err)

		_, err = h.s.Create(h.ctx, old, &store.Record{Meta: meta(now, ""), Values: vals("b", "2")}, wopts(now))
		require.ErrorIs(t, err, store.ErrExists, "an ID still forwarding is taken")
		rec, err := h.s.Load(h.ctx, old, at(now))
		require.NoError(t, err)
		assert.Equal(t, next, rec.Successor)
	})
}

func (f factory) load(t *testing.T) {
	t.Run("ReturnsCopyOfMeta", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice", "a", "1")
		first := h.get(id, at(now))
		first.Meta.UserID = "mallory"
		first.Meta.ExpiresAt = now.Add(100 * lifetime)
		first.Successor = newID(t)

		again := h.get(id, at(now))
		assertMeta(t, meta(now, "alice"), again.Meta, "Load after the caller changed an earlier result")
		assert.Empty(t, again.Successor)
	})

	t.Run("LoadedMapsNeverChange", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice", "a", "1", "b", "2")

		type held struct {
			what string
			m    map[string][]byte
			want map[string]string
		}
		var loaded []held
		hold := func(what string) {
			m := h.get(id, at(now)).Values
			loaded = append(loaded, held{what, m, strs(m)})
		}
		hold("initial")
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("c", "3", "a", "10"), Del: []string{"b"}}))
		hold("after set/del")
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Clear: true, Set: vals("z", "26")}))
		hold("after clear")
		_, err := h.s.Load(h.ctx, id, store.LoadOptions{Now: now.Add(time.Minute), Idle: idle}) // touches
		require.NoError(t, err)
		_, err = h.s.Renew(h.ctx, id, newID(t), &store.Change{Now: now, Idle: idle, Set: vals("r", "1"), Del: []string{"z"}}, wopts(now))
		require.NoError(t, err)

		for _, l := range loaded {
			assert.Equal(t, l.want, strs(l.m), "map loaded %s was changed by a later write", l.what)
		}
	})

	// Readers go through every value of the maps they load while writers
	// update: a store writing a handed-out map in place is a data race
	// under -race, and one that applies half a change is caught by the
	// pair of keys every write sets together.
	t.Run("ReadersSeeWholeUpdates", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "x", "0", "y", "0")
		const writers, readers, rounds = 4, 4, 100
		var wg group
		errs := make(chan error, writers+readers)
		for w := range writers {
			wg.Go(func() {
				for i := range rounds {
					v := fmt.Sprintf("%d-%d", w, i)
					ch := &store.Change{Now: now, Idle: idle, Set: vals("x", v, "y", v, "w"+strconv.Itoa(w), v)}
					if err := h.s.Update(h.ctx, id, ch); err != nil {
						errs <- fmt.Errorf("Update: %w", err)
						return
					}
				}
			})
		}
		for range readers {
			wg.Go(func() {
				for range rounds {
					rec, err := h.s.Load(h.ctx, id, at(now))
					if err != nil {
						errs <- fmt.Errorf("Load: %w", err)
						return
					}
					n := 0
					for _, v := range rec.Values {
						n += len(v)
					}
					if x, y := string(rec.Values["x"]), string(rec.Values["y"]); x != y || n == 0 {
						errs <- fmt.Errorf("Load saw half an Update: x=%q y=%q", x, y)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		got := h.get(id, at(now)).Values
		for w := range writers {
			assert.Equal(t, fmt.Sprintf("%d-%d", w, rounds-1), string(got["w"+strconv.Itoa(w)]), "writer %d's last value", w)
		}
	})
}

func (f factory) update(t *testing.T) {
	t.Run("SetAndDelete", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "a", "1", "b", "2", "c", "3")
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle,
			Set: vals("b", "20", "d", "4"), Del: []string{"c", "never-set"}}))
		assert.Equal(t, map[string]string{"a": "1", "b": "20", "d": "4"}, strs(h.get(id, at(now)).Values),
			"only the changed keys change")
	})

	t.Run("ManyKeys", func(t *testing.T) {
		// More keys than a script can pass to one command: a store that
		// batches its writes must get every batch right.
		h := f.begin(t)
		now := time.Now()
		const n = 5000
		set := make(map[string][]byte, n)
		for i := range n {
			set["k"+strconv.Itoa(i)] = []byte(strconv.Itoa(i))
		}
		id := h.session(now, "")
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: set}))
		del := make([]string, 0, n/2)
		for i := 0; i < n; i += 2 {
			del = append(del, "k"+strconv.Itoa(i))
		}
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Del: del,
			Set: vals("k1", "one")}))
		got := h.get(id, at(now)).Values
		require.Len(t, got, n/2)
		for i := 1; i < n; i += 2 {
			want := strconv.Itoa(i)
			if i == 1 {
				want = "one"
			}
			require.Equal(t, want, string(got["k"+strconv.Itoa(i)]), "key k%d", i)
		}
	})

	t.Run("Clear", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "a", "1", "b", "2")
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Clear: true, Set: vals("z", "26")}))
		assert.Equal(t, map[string]string{"z": "26"}, strs(h.get(id, at(now)).Values), "Clear goes before Set")

		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Clear: true}))
		assert.Empty(t, h.get(id, at(now)).Values)
	})

	t.Run("EmptyChange", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice", "a", "1")
		later := now.Add(time.Minute)
		require.NoError(t, h.s.Update(h.ctx, id, change(later)))
		rec := h.get(id, at(later))
		assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values))
		assertTime(t, later, rec.Meta.LastSeen, "LastSeen after an Update with no values")
	})

	t.Run("LastSeenBecomesNow", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice")
		later := now.Add(5 * time.Minute)
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: later, Idle: idle, Set: vals("k", "v")}))
		want := meta(now, "alice")
		want.LastSeen = later
		assertMeta(t, want, h.get(id, at(later)).Meta, "Update without Meta")
	})

	t.Run("ReplacesMeta", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice", "a", "1")
		later := now.Add(time.Minute)
		m := store.Meta{
			UserID: "alice", CreatedAt: now, IssuedAt: later, ExpiresAt: later.Add(2 * time.Hour),
			LastSeen:  now.Add(-time.Hour), // ignored: LastSeen is always Now
			UserAgent: "curl/8.0", IP: "198.51.100.9",
		}
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: later, Idle: idle, Meta: &m}))
		rec := h.get(id, at(later))
		want := m
		want.LastSeen = later
		assertMeta(t, want, rec.Meta, "Update with Meta")
		assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values), "values survive a Meta change")
	})

	t.Run("RebindsUser", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice")
		m := meta(now, "bob")
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Meta: &m}))
		assert.Empty(t, h.list("alice", now), "the old user still lists the session")
		assert.Equal(t, []string{id}, h.listIDs("bob", now))

		anon := meta(now, "")
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Meta: &anon}))
		assert.Empty(t, h.list("bob", now), "an unbound session is still listed")
		assert.Empty(t, h.get(id, at(now)).Meta.UserID)
	})

	t.Run("MissingID", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := newID(t)
		require.ErrorIs(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("a", "1")}), store.ErrNotFound)
		h.missing(id, now, "Update of a missing ID created it")
	})

	t.Run("AfterDelete", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice", "a", "1")
		_, err := h.s.Delete(h.ctx, id)
		require.NoError(t, err)
		require.ErrorIs(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("b", "2")}), store.ErrNotFound)
		h.missing(id, now, "Update resurrected a deleted session")
		assert.Empty(t, h.list("alice", now))
	})

	t.Run("ForwardingEntry", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "", "a", "1"), newID(t)
		_, err := h.s.Renew(h.ctx, old, next, change(now), store.WriteOptions{Now: now, Idle: idle, Grace: time.Hour})
		require.NoError(t, err)

		err = h.s.Update(h.ctx, old, &store.Change{Now: now, Idle: idle, Set: vals("x", "1")})
		var renewed *store.ErrRenewed
		require.ErrorAs(t, err, &renewed, "an Update on a forwarding entry names the successor")
		assert.Equal(t, next, renewed.Successor)
		rec, err := h.s.Load(h.ctx, old, at(now))
		require.NoError(t, err)
		assert.Equal(t, next, rec.Successor, "the forwarding entry is intact")
		assert.Empty(t, rec.Values)
		assert.Equal(t, map[string]string{"a": "1"}, strs(h.get(next, at(now)).Values), "the write went nowhere")
	})

	t.Run("PastDeadline", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		idleOut := h.session(now, "", "a", "1")
		m := meta(now, "")
		m.ExpiresAt = now.Add(10 * time.Minute)
		lifeOut := newID(t)
		h.put(lifeOut, &store.Record{Meta: m, Values: vals("a", "1")}, wopts(now))

		for id, when := range map[string]time.Time{idleOut: now.Add(idle + time.Minute), lifeOut: now.Add(11 * time.Minute)} {
			err := h.s.Update(h.ctx, id, &store.Change{Now: when, Idle: idle, Set: vals("x", "1")})
			require.ErrorIs(t, err, store.ErrNotFound, "Update of a session past its deadline")
			// The store may drop the expired record, but must not have
			// written to it or extended it.
			rec, err := h.s.Load(h.ctx, id, at(now.Add(time.Minute)))
			if err == nil {
				assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values))
				assertTime(t, now, rec.Meta.LastSeen, "LastSeen after a refused Update")
			} else {
				require.ErrorIs(t, err, store.ErrNotFound)
			}
		}
	})
}
