package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

// Precision is the time resolution every store must keep: metadata times
// read back are compared within it (Redis, for one, stores milliseconds).
const Precision = time.Millisecond

const (
	// idle is the idle timeout of every test that is not about expiry: long
	// enough that nothing expires while the suite runs.
	idle = time.Hour
	// lifetime is the absolute lifetime those tests give a session.
	lifetime = 24 * time.Hour
	// noTouch as TouchAfter keeps Load from extending anything: a live
	// record is never that long past its LastSeen.
	noTouch = lifetime
)

// factory returns a fresh, empty store for one test; see the package doc.
type factory func(t *testing.T) store.Store

// Run runs the conformance suite against the stores newStore makes, as
// subtests of t named storetest/<Area>/<Guarantee>. newStore is called once
// per test, from tests running in parallel, and must return a fresh, empty
// store of its own and register its cleanup with t.Cleanup. Run returns
// when every test has finished.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	f := factory(newStore)
	areas := []struct {
		name string
		run  func(*testing.T)
	}{
		{"Create", f.create}, {"Load", f.load}, {"Update", f.update},
		{"Deadline", f.deadline}, {"Touch", f.touch}, {"Renew", f.renew},
		{"Delete", f.delete}, {"Take", f.take}, {"User", f.user}, {"Cap", f.cap},
		{"Concurrency", f.concurrency}, {"Context", f.context},
		{"Login", f.login}, {"Walk", f.walk},
	}
	// The areas run in parallel, so their real-time waits overlap; the
	// wrapping subtest is not parallel, so Run waits for all of them.
	t.Run("storetest", func(t *testing.T) {
		for _, a := range areas {
			t.Run(a.name, func(t *testing.T) {
				t.Parallel()
				a.run(t)
			})
		}
	})
}

// harness is one test's store and helpers. Helpers fail the test on an
// unexpected error, so each test reads as the guarantee it checks.
type harness struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
}

// begin marks the test parallel and gives it its own store.
func (f factory) begin(t *testing.T) *harness {
	t.Parallel()
	return &harness{t: t, s: f(t), ctx: context.Background()}
}

// newID returns a valid store ID: 64 lowercase hex characters, random.
func newID(t testing.TB) string {
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	id := hex.EncodeToString(b[:])
	require.True(t, store.ValidID(id))
	return id
}

// meta is a session's metadata as the manager would write it at now. The
// login's details are set (Idle excepted, which changes deadlines), so
// that every test comparing metadata also proves they are kept.
func meta(now time.Time, user string) store.Meta {
	return store.Meta{
		UserID:    user,
		CreatedAt: now,
		IssuedAt:  now,
		LastSeen:  now,
		ExpiresAt: now.Add(lifetime),
		UserAgent: "storetest/1.0 (" + user + ")",
		IP:        "192.0.2.7",
		Label:     "Work laptop \u2014 " + user,
		Metadata:  map[string]string{"device": "laptop", "ünïcode": "\u2603 snow", "empty": ""},
		Binding:   "b1nd1ng-" + user,
	}
}

// vals builds a fresh values map from key, value pairs: a map handed to the
// store belongs to it, so every call site needs its own.
func vals(kv ...string) map[string][]byte {
	m := make(map[string][]byte, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

// strs turns values into strings, for readable comparisons.
func strs(m map[string][]byte) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func wopts(now time.Time) store.WriteOptions { return store.WriteOptions{Now: now, Idle: idle} }

// at loads at now without touching.
func at(now time.Time) store.LoadOptions {
	return store.LoadOptions{Now: now, Idle: idle, TouchAfter: noTouch}
}

func change(now time.Time) *store.Change { return &store.Change{Now: now, Idle: idle} }

// put creates a record and requires success with nothing evicted.
func (h *harness) put(id string, rec *store.Record, opts store.WriteOptions) {
	h.t.Helper()
	evicted, err := h.s.Create(h.ctx, id, rec, opts)
	require.NoError(h.t, err, "Create")
	require.Empty(h.t, evicted, "Create evicted sessions without a cap")
}

// session creates a session for user (empty: anonymous) at now with the
// given values and returns its ID.
func (h *harness) session(now time.Time, user string, kv ...string) string {
	h.t.Helper()
	id := newID(h.t)
	h.put(id, &store.Record{Meta: meta(now, user), Values: vals(kv...)}, wopts(now))
	return id
}

// get loads id and requires a live record (not a forwarding entry).
func (h *harness) get(id string, opts store.LoadOptions) *store.Record {
	h.t.Helper()
	rec, err := h.s.Load(h.ctx, id, opts)
	require.NoError(h.t, err, "Load")
	require.NotNil(h.t, rec, "Load returned no record and no error")
	require.Empty(h.t, rec.Successor, "Load returned a forwarding entry for a live record")
	return rec
}

// missing requires Load to report ErrNotFound: for IDs that never existed,
// were deleted or renewed away without grace.
func (h *harness) missing(id string, now time.Time, msg string) {
	h.t.Helper()
	rec, err := h.s.Load(h.ctx, id, at(now))
	require.ErrorIs(h.t, err, store.ErrNotFound, "%s: Load returned %+v", msg, rec)
}

// gone requires Load to refuse id as expired: ErrExpired, or ErrNotFound
// once the store has dropped it.
func (h *harness) gone(id string, opts store.LoadOptions, msg string) {
	h.t.Helper()
	rec, err := h.s.Load(h.ctx, id, opts)
	requireGone(h.t, err, "%s: Load returned %+v", msg, rec)
}

func requireGone(t testing.TB, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrExpired) {
		require.Failf(t, "want ErrNotFound or ErrExpired", "got %v", err)
	}
}

// list returns user's listing at now, as ID -> entry.
func (h *harness) list(user string, now time.Time) map[string]store.Entry {
	h.t.Helper()
	entries, err := h.s.ListUser(h.ctx, user, now)
	require.NoError(h.t, err, "ListUser")
	out := make(map[string]store.Entry, len(entries))
	for _, e := range entries {
		_, dup := out[e.ID]
		require.False(h.t, dup, "ListUser listed %s twice", e.ID)
		out[e.ID] = e
	}
	return out
}

// listIDs returns the IDs in user's listing at now.
func (h *harness) listIDs(user string, now time.Time) []string {
	h.t.Helper()
	var ids []string
	for id := range h.list(user, now) {
		ids = append(ids, id)
	}
	return ids
}

// assertMeta compares metadata, times within Precision.
func assertMeta(t testing.TB, want, got store.Meta, what string) {
	t.Helper()
	assert.Equal(t, want.UserID, got.UserID, "%s: UserID", what)
	assert.Equal(t, want.UserAgent, got.UserAgent, "%s: UserAgent", what)
	assert.Equal(t, want.IP, got.IP, "%s: IP", what)
	assertTime(t, want.CreatedAt, got.CreatedAt, what+": CreatedAt")
	assertTime(t, want.IssuedAt, got.IssuedAt, what+": IssuedAt")
	assertTime(t, want.LastSeen, got.LastSeen, what+": LastSeen")
	assertTime(t, want.ExpiresAt, got.ExpiresAt, what+": ExpiresAt")
	assert.Equal(t, want.Idle, got.Idle, "%s: Idle", what)
	assert.Equal(t, want.Remembered, got.Remembered, "%s: Remembered", what)
	assert.Equal(t, want.Label, got.Label, "%s: Label", what)
	assert.Equal(t, want.Binding, got.Binding, "%s: Binding", what)
	if len(want.Metadata) == 0 {
		assert.Empty(t, got.Metadata, "%s: Metadata", what)
	} else {
		assert.Equal(t, want.Metadata, got.Metadata, "%s: Metadata", what)
	}
}

func assertTime(t testing.TB, want, got time.Time, what string) {
	t.Helper()
	assert.WithinDuration(t, want, got, Precision, what)
}

// sleepUntil sleeps until the real clock reaches d: real-time tests measure
// from the moment they wrote, not from when they were scheduled.
func sleepUntil(d time.Time) { time.Sleep(time.Until(d)) }

// group is sync.WaitGroup.Go for a module that predates Go 1.25.
type group struct{ wg sync.WaitGroup }

func (g *group) Go(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
}

func (g *group) Wait() { g.wg.Wait() }
