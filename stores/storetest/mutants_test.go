package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// The suite proves guarantees only if breaking one makes it fail. Each
// mutant below is the memory store with one guarantee broken the way a
// real store might break it; TestSuiteCatchesMutants runs the relevant
// part of the suite against each, in a child process, and requires it to
// fail there. (That the unbroken store passes is memstore's own test.)

const mutantEnv = "STORETEST_MUTANT"

type mutant struct {
	// tests selects, as a -test.run pattern below TestMutantVictim/storetest,
	// the tests that must catch the mutant.
	tests string
	wrap  func(*memstore.Store) store.Store
}

var mutants = map[string]mutant{
	"UpdateResurrects": {"Update/(MissingID|AfterDelete)", func(s *memstore.Store) store.Store {
		return &updateResurrects{s}
	}},
	"LoadIgnoresNow": {"Deadline/(Idle|Absolute)$", func(s *memstore.Store) store.Store {
		return &loadIgnoresNow{s}
	}},
	"NeverTouches":   {"Touch/PastWindow", func(s *memstore.Store) store.Store { return &neverTouches{s} }},
	"RenewNotAtomic": {"Renew/Concurrent", func(s *memstore.Store) store.Store { return &renewNotAtomic{s} }},
	"ListIgnoresNow": {"Deadline/ListUserSkipsExpired", func(s *memstore.Store) store.Store {
		return &listIgnoresNow{s}
	}},
	"IgnoresCancel": {"Context", func(s *memstore.Store) store.Store { return &ignoresCancel{s} }},
	"NoCap":         {"Cap", func(s *memstore.Store) store.Store { return &noCap{s} }},
	"UpdateRewritesAll": {"Concurrency/DistinctKeys", func(s *memstore.Store) store.Store {
		return &updateRewritesAll{s}
	}},
	"WritesLoadedMap": {"Load/LoadedMapsNeverChange", func(s *memstore.Store) store.Store {
		return &writesLoadedMap{s}
	}},
	"DeleteAlwaysExisted": {"Delete/Missing", func(s *memstore.Store) store.Store {
		return &deleteAlwaysExisted{s}
	}},
	"DeleteUserKeepsIndex": {"User/DeleteUserAll", func(s *memstore.Store) store.Store {
		return &deleteUserNoop{s}
	}},
}

// TestMutantVictim is run in a child process by TestSuiteCatchesMutants.
func TestMutantVictim(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesMutants")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memstore.New(memstore.Options{})
		t.Cleanup(func() { s.Close() })
		if m, ok := mutants[name]; ok {
			return m.wrap(s)
		}
		return s
	})
}

func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a test process per mutant")
	}
	if os.Getenv(mutantEnv) != "" {
		t.Skip("child process")
	}
	run := func(name, tests string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.count=1", "-test.v",
			"-test.run=^TestMutantVictim$/^storetest$/"+strings.ReplaceAll(tests, "/", "/^"))
		cmd.Env = append(os.Environ(), mutantEnv+"="+name)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for name, m := range mutants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := run(name, m.tests)
			var exit *exec.ExitError
			group := strings.SplitN(m.tests, "/", 2)[0]
			if !errors.As(err, &exit) || !strings.Contains(out, "--- FAIL: TestMutantVictim/storetest/"+group+"/") {
				t.Fatalf("the suite (%s) did not catch mutant %s: %v\n%s", m.tests, name, err, out)
			}
		})
	}
}

type updateResurrects struct{ *memstore.Store }

func (s *updateResurrects) Update(ctx context.Context, id string, ch *store.Change) error {
	err := s.Store.Update(ctx, id, ch)
	if errors.Is(err, store.ErrNotFound) {
		m := store.Meta{CreatedAt: ch.Now, IssuedAt: ch.Now, LastSeen: ch.Now, ExpiresAt: ch.Now.Add(time.Hour)}
		_, err = s.Store.Create(ctx, id, &store.Record{Meta: m, Values: ch.Set}, store.WriteOptions{Now: ch.Now, Idle: ch.Idle})
	}
	return err
}

type loadIgnoresNow struct{ *memstore.Store }

func (s *loadIgnoresNow) Load(ctx context.Context, id string, o store.LoadOptions) (*store.Record, error) {
	o.Now = time.Now()
	return s.Store.Load(ctx, id, o)
}

type neverTouches struct{ *memstore.Store }

func (s *neverTouches) Load(ctx context.Context, id string, o store.LoadOptions) (*store.Record, error) {
	o.TouchAfter = 1 << 62
	return s.Store.Load(ctx, id, o)
}

// renewNotAtomic checks, then copies, then deletes: racing Renews both win.
type renewNotAtomic struct{ *memstore.Store }

func (s *renewNotAtomic) Renew(ctx context.Context, oldID, newID string, ch *store.Change, o store.WriteOptions) ([]string, error) {
	rec, err := s.Store.Load(ctx, oldID, store.LoadOptions{Now: o.Now, Idle: o.Idle, TouchAfter: 1 << 62})
	if err != nil {
		return nil, err
	}
	if rec.Successor != "" {
		return nil, &store.ErrRenewed{Successor: rec.Successor}
	}
	runtime.Gosched()
	if _, err := s.Store.Create(ctx, newID, rec, o); err != nil {
		return nil, err
	}
	_, err = s.Store.Delete(ctx, oldID)
	return nil, err
}

type listIgnoresNow struct{ *memstore.Store }

func (s *listIgnoresNow) ListUser(ctx context.Context, u string, _ time.Time) ([]store.Entry, error) {
	return s.Store.ListUser(ctx, u, time.Now())
}

type ignoresCancel struct{ *memstore.Store }

func (s *ignoresCancel) Create(ctx context.Context, id string, rec *store.Record, o store.WriteOptions) ([]string, error) {
	return s.Store.Create(context.WithoutCancel(ctx), id, rec, o)
}

type noCap struct{ *memstore.Store }

func (s *noCap) Create(ctx context.Context, id string, rec *store.Record, o store.WriteOptions) ([]string, error) {
	o.MaxPerUser = 0
	return s.Store.Create(ctx, id, rec, o)
}

func (s *noCap) Renew(ctx context.Context, oldID, newID string, ch *store.Change, o store.WriteOptions) ([]string, error) {
	o.MaxPerUser = 0
	return s.Store.Renew(ctx, oldID, newID, ch, o)
}

// updateRewritesAll reads the whole record and writes it all back: a lost
// update whenever two requests overlap.
type updateRewritesAll struct{ *memstore.Store }

func (s *updateRewritesAll) Update(ctx context.Context, id string, ch *store.Change) error {
	rec, err := s.Store.Load(ctx, id, store.LoadOptions{Now: ch.Now, Idle: ch.Idle, TouchAfter: 1 << 62})
	if err != nil {
		return err
	}
	all := make(map[string][]byte, len(rec.Values)+len(ch.Set))
	for k, v := range rec.Values {
		all[k] = v
	}
	for k, v := range ch.Set {
		all[k] = v
	}
	runtime.Gosched()
	return s.Store.Update(ctx, id, &store.Change{Now: ch.Now, Idle: ch.Idle, Meta: ch.Meta, Clear: true, Set: all})
}

// writesLoadedMap applies changes to the map the last Load handed out, as
// a store updating its records in place would.
type writesLoadedMap struct{ *memstore.Store }

func (s *writesLoadedMap) Update(ctx context.Context, id string, ch *store.Change) error {
	if rec, err := s.Store.Load(ctx, id, store.LoadOptions{Now: ch.Now, Idle: ch.Idle, TouchAfter: 1 << 62}); err == nil {
		for k, v := range ch.Set {
			rec.Values[k] = v
		}
	}
	return s.Store.Update(ctx, id, ch)
}

type deleteAlwaysExisted struct{ *memstore.Store }

func (s *deleteAlwaysExisted) Delete(ctx context.Context, id string) (bool, error) {
	_, err := s.Store.Delete(ctx, id)
	return true, err
}

type deleteUserNoop struct{ *memstore.Store }

func (s *deleteUserNoop) DeleteUser(ctx context.Context, u, keep string) ([]string, error) {
	entries, err := s.Store.ListUser(ctx, u, time.Now())
	var ids []string
	for _, e := range entries {
		if e.ID != keep {
			ids = append(ids, e.ID)
		}
	}
	return ids, err
}
