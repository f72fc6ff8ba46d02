package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/adapterkit"
	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// ---------------------------------------------------------------------------
// The tests

func TestMain(m *testing.M) {
	// go-redis logs every failed dial, hundreds per outage; the soak
	// counts what matters itself.
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// TestSoakMemstore: the in-memory store under load, with no fault. It never
// fails, so not a single request may be answered 503. With no outage to
// wait for, its one phase runs for longer.
func TestSoakMemstore(t *testing.T) {
	leakCheck(t)
	ms := memstore.New(memstore.Options{})
	t.Cleanup(func() { ms.Close() })
	p := fullPlan()
	p.quota *= 8
	h := newHarness(t, ms, p)
	h.run(t)
	h.requireClean(t)
	for ph := range h.stats {
		assert.Zero(t, h.stats[ph].unavailable.Load(), "503s in phase %s: the in-memory store never fails", h.phaseName(ph))
	}
}

// TestSoakMemstoreOutage: the in-memory store behind a switch, under load:
// an outage that fails every call (and applies half of the writes it fails,
// their acknowledgement lost), then a spell when every write is applied and
// answered as failed, then another outage.
func TestSoakMemstoreOutage(t *testing.T) {
	leakCheck(t)
	ms := memstore.New(memstore.Options{})
	t.Cleanup(func() { ms.Close() })
	st := &outageStore{Store: ms}
	h := newHarness(t, st, fullPlan(), st.fault("outage 1"), st.lostAcks("acks lost"), st.fault("outage 2"))
	h.run(t)
	h.requireClean(t)
	h.requireOutages(t)
	assert.NotZero(t, h.landed.Load(), "no read found a write answered 503: the ledger's may-have-landed case went untested")
}

// TestSoakRedis: a Redis server of the test's own, with an fsynced
// append-only file, stopped (SIGTERM) and then killed (SIGKILL) under load,
// each time started again on its port while the load goes on.
func TestSoakRedis(t *testing.T) {
	leakCheck(t) // first, so that it runs last: after the client and server are gone
	srv := redistest.StandaloneDurable(t)
	client, err := redisstore.NewClient([]string{srv.Addr()}, 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	st, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)

	h := newHarness(t, st, fullPlan(),
		fault{name: "SIGTERM", down: srv.Stop, up: srv.Start},
		fault{name: "SIGKILL", down: srv.Kill, up: srv.Start},
	)
	h.run(t)
	h.requireClean(t)
	h.requireOutages(t)
}

// TestSoakPostgres: a PostgreSQL server of the test's own, shut down fast
// (SIGINT) and then crashed (SIGQUIT, an immediate shutdown: no
// checkpoint, crash recovery at the next start) under load, each time
// started again on its port while the load goes on. It runs with fsync
// off, which a crash of the server process (not of the machine) does not
// defeat: what it acknowledged survives.
func TestSoakPostgres(t *testing.T) {
	leakCheck(t) // first, so that it runs last: after the pool and server are gone
	srv := pgtest.New(t)
	ctx := context.Background()
	pool, err := pgstore.NewPool(ctx, srv.URL(), func(cfg *pgxpool.Config) { cfg.MaxConns = 16 })
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st, err := pgstore.New(ctx, pool, pgstore.Options{CreateSchema: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })

	h := newHarness(t, st, fullPlan(),
		fault{name: "fast shutdown", down: srv.Stop, up: srv.Start},
		fault{name: "crash", down: srv.Crash, up: srv.Start},
	)
	h.run(t)
	h.requireClean(t)
	h.requireOutages(t)
}

// TestSoakRedisCluster: a durable three-master Redis Cluster of the test's
// own, one of its nodes killed (SIGKILL) under load and started again. The
// sessions on that node's slots answer 503 meanwhile; the others keep
// working.
func TestSoakRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	leakCheck(t)
	c := redistest.NewClusterDurable(t)
	client, err := redisstore.NewClient(c.Addrs(), 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	st, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)

	node := c.Node(1)
	h := newHarness(t, st, fullPlan(),
		fault{name: "node SIGKILL", partial: true, down: node.Kill, up: node.Start},
	)
	h.run(t)
	h.requireClean(t)
	h.requireOutages(t)
	assert.NotZero(t, h.stats[outage(0)].inside200.Load(), "the other masters kept serving while one was down")
}

// ---------------------------------------------------------------------------
// Controls: the same soak must catch a store broken on purpose.

// control runs the soak against a memory store broken on purpose by wrap
// (which may add faults to the plan's phases) and returns its harness, to
// count the violations the soak found.
func control(t *testing.T, p plan, wrap func(*memstore.Store) (core.Store, []fault)) *harness {
	t.Helper()
	leakCheck(t)
	ms := memstore.New(memstore.Options{})
	t.Cleanup(func() { ms.Close() })
	st, faults := wrap(ms)
	h := newHarness(t, st, p, faults...)
	h.run(t)
	h.logViolations(t)
	return h
}

// TestSoakCatchesLostWrites: a store that acknowledges some updates
// without applying them.
func TestSoakCatchesLostWrites(t *testing.T) {
	h := control(t, controlPlan(), func(ms *memstore.Store) (core.Store, []fault) {
		return &lossyStore{Store: ms}, nil
	})
	assert.NotZero(t, h.violationCount("lost write"), "updates acknowledged but dropped went unnoticed")
}

// TestSoakCatchesWholeRecordWrites: a store that writes back the whole
// session as the request loaded it (last writer wins the whole session, the
// classic bug of stores that keep a session as one blob), so that concurrent
// writes of different keys overwrite each other.
func TestSoakCatchesWholeRecordWrites(t *testing.T) {
	p := controlPlan()
	p.sessions = p.workers // fewer sessions, so that writers meet
	h := control(t, p, func(ms *memstore.Store) (core.Store, []fault) {
		return &blobStore{Store: ms}, nil
	})
	assert.NotZero(t, h.violationCount("lost write"), "distinct-key writes lost to concurrent writers went unnoticed")
}

// TestSoakCatchesFailOpen: a store whose reads, for a while, report every
// session missing (as a store that turned its errors into misses would)
// while its writes work: the manager serves valid cookies new, anonymous
// sessions, and replaces them with fresh cookies.
func TestSoakCatchesFailOpen(t *testing.T) {
	h := control(t, controlPlan(), func(ms *memstore.Store) (core.Store, []fault) {
		st := &outageStore{Store: ms, failOpen: true}
		return st, []fault{st.fault("outage")}
	})
	assert.NotZero(t, h.violationCount("fail-open (new session)"), "valid cookies served as new sessions went unnoticed")
	assert.NotZero(t, h.violationCount("fail-open (Set-Cookie)"), "valid cookies replaced by new ones went unnoticed")
	assert.NotZero(t, h.violationCount("answered while down"), "answers without a store went unnoticed")
	assert.NotZero(t, h.violationCount("event"), "unknown-token events for valid tokens went unnoticed")
}

// TestSoakCatchesPanics: a store that panics now and then.
func TestSoakCatchesPanics(t *testing.T) {
	h := control(t, controlPlan(), func(ms *memstore.Store) (core.Store, []fault) {
		return &panicStore{Store: ms}, nil
	})
	assert.NotZero(t, h.violationCount("panic"), "panics went unnoticed")
}

// TestLedger: the rules a read of a worker's key is held to, each way a
// read can keep or break them.
func TestLedger(t *testing.T) {
	val := func(seq int64) string { return fmt.Sprintf("s0/k00/%d", seq) }
	put := func(seq int64) *state { return &state{seq: seq, value: val(seq)} }
	del := func(seq int64) *state { return &state{seq: seq, absent: true} }
	const absent = "-"
	type step struct {
		write *state
		code  int    // the write's answer
		read  string // what a read found: a value, or absent
		legal bool   // whether that read is legal
	}
	w := func(st *state, code int) step { return step{write: st, code: code} }
	r := func(v string, legal bool) step { return step{read: v, legal: legal} }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"never written, absent", []step{r(absent, true)}},
		{"never written, a value", []step{r(val(1), false)}},
		{"acknowledged, read back", []step{w(put(1), 200), r(val(1), true)}},
		{"acknowledged, lost", []step{w(put(1), 200), r(absent, false)}},
		{"acknowledged, then an older value", []step{w(put(1), 200), w(put(2), 200), r(val(1), false)}},
		{"a value never written", []step{w(put(1), 200), r(val(9), false)}},
		{"503, not landed", []step{w(put(1), 200), w(put(2), 503), r(val(1), true)}},
		{"503, landed", []step{w(put(1), 200), w(put(2), 503), r(val(2), true)}},
		{"503s land in order", []step{w(put(1), 200), w(put(2), 503), w(put(3), 503), r(val(3), true), r(val(2), false)}},
		{"no going back once a 503 was seen landed", []step{w(put(1), 200), w(put(2), 503), r(val(2), true), r(val(1), false)}},
		{"a 503 cannot land after a later 200", []step{w(put(1), 503), w(put(2), 200), r(val(1), false)}},
		{"acknowledged delete", []step{w(put(1), 200), w(del(2), 200), r(absent, true), r(val(1), false)}},
		{"503 delete, landed", []step{w(put(1), 200), w(del(2), 503), r(absent, true), r(val(1), false)}},
		{"503 delete, not landed", []step{w(put(1), 200), w(del(2), 503), r(val(1), true)}},
		{"a panic is a 503", []step{w(put(1), 200), w(put(2), -1), r(val(2), true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{violations: map[string][]string{}, vcount: map[string]int{}}
			sl := &slot{s: &sess{label: "s0"}, key: "k00", cands: []state{{absent: true}}}
			for i, st := range tc.steps {
				if st.write != nil {
					h.settle(sl, *st.write, &answer{code: st.code})
					continue
				}
				before := h.violationCount("lost write")
				h.observe(sl, st.read, st.read != absent, "test", time.Now())
				legal := h.violationCount("lost write") == before
				assert.Equal(t, st.legal, legal, "step %d, read %s: legal", i, st.read)
			}
		})
	}
}

// TestLeakCheckCatchesLeak: the goroutine check the soak tests end with
// finds a goroutine left running, and is quiet once it has ended.
func TestLeakCheckCatchesLeak(t *testing.T) {
	release, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		<-release
	}()
	err := findLeaks(time.Second)
	close(release)
	<-exited
	require.Error(t, err, "a leaked goroutine went unnoticed")
	assert.Contains(t, err.Error(), "TestLeakCheckCatchesLeak")
	assert.NoError(t, findLeaks(time.Second), "a goroutine that has ended is not a leak")
}

// leakCheck makes the test end with a check that no goroutine is left
// (goleak). Call it first: the cleanups that close the manager, store,
// client and server run before it.
func leakCheck(t *testing.T) {
	t.Cleanup(func() {
		if err := findLeaks(leakPatience); err != nil {
			t.Error(err)
		}
	})
}

// leakPatience: goroutines that a closed Redis client leaves winding down
// (a dial probe sleeping out its second, a cluster reload in its 200ms
// cooldown) end on their own within it; a leak does not.
const leakPatience = 5 * time.Second

// findLeaks is goleak.Find, tried again until it finds nothing or patience
// runs out; then it returns what it found.
func findLeaks(patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		err := goleak.Find()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Plans

// plan bounds a run.
type plan struct {
	workers    int           // goroutines sending requests
	sessions   int           // sessions created before the load, at least workers
	sharing    int           // workers writing each of them, one key each
	fresh      int           // sessions each worker may create during the run
	quota      int           // a phase ends after this many 200s
	minDown    time.Duration // an outage lasts at least this long
	phaseMax   time.Duration // any phase at most this long
	deadline   time.Duration // the whole load, all phases
	maxOps     int           // requests sent, all workers together
	reqTimeout time.Duration // each request's context deadline
}

// fullPlan is the soak CI runs: a few seconds per store with -race on two
// cores, and the load never more than deadline. -short shrinks it.
func fullPlan() plan {
	p := plan{
		workers:    32,
		sessions:   64,
		sharing:    4,
		fresh:      3,
		quota:      1500,
		minDown:    500 * time.Millisecond,
		phaseMax:   4 * time.Second,
		deadline:   12 * time.Second,
		maxOps:     60000,
		reqTimeout: 5 * time.Second,
	}
	if testing.Short() {
		p.workers, p.sessions, p.quota, p.minDown, p.maxOps = 16, 32, 300, 300*time.Millisecond, 15000
	}
	return p
}

// controlPlan is a small run, for the controls.
func controlPlan() plan {
	return plan{
		workers:    8,
		sessions:   16,
		sharing:    4,
		fresh:      2,
		quota:      1500,
		minDown:    200 * time.Millisecond,
		phaseMax:   2 * time.Second,
		deadline:   5 * time.Second,
		maxOps:     10000,
		reqTimeout: 5 * time.Second,
	}
}

// fault takes the store down and brings it back. A partial fault leaves
// some requests working: no rule says that every request is answered 503
// while it lasts.
type fault struct {
	name     string
	partial  bool
	down, up func() error
	// replica, for a failover: down kills a master whose asynchronous
	// replica up waits to see promoted. See harness.failDown.
	replica *replica
}

// replica is the replica a failover promotes.
type replica struct {
	// sync waits until the replica has every write the master acknowledged
	// before it was called (redistest's WaitReplicated).
	sync func() error
	// store reads from the replica, read-only: what it holds once the
	// master is dead is what the promotion starts from.
	store core.Store
	// role is the replica's role ("slave" until its promotion).
	role func() (string, error)
	// owns, in a cluster, reports whether a key is on the replica's slots;
	// nil: every key is.
	owns func(ctx context.Context, key string) (bool, error)
}

// ---------------------------------------------------------------------------
// The application under load

// The application's routes. Each handler says, in the Soak-New response
// header, whether the session it was given is new (unsaved).
//
//	PUT    /v/{key}  body: the value       200 "ok"
//	DELETE /v/{key}                        200 "ok"
//	GET    /v/{key}                        200 the value, 404 when absent
//	GET    /all                            200 {"key": "value", ...}
func app() http.Handler {
	mux := http.NewServeMux()
	mark := func(w http.ResponseWriter, s *core.Session) {
		w.Header().Set("Soak-New", strconv.FormatBool(s.IsNew()))
	}
	mux.HandleFunc("PUT /v/{key}", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		mark(w, s)
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = s.Put(r.PathValue("key"), string(body))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("DELETE /v/{key}", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		mark(w, s)
		s.Delete(r.PathValue("key"))
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /v/{key}", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		mark(w, s)
		v, err := core.Lookup[string](s, r.PathValue("key"))
		switch {
		case errors.Is(err, core.ErrNoValue):
			w.WriteHeader(http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			io.WriteString(w, v)
		}
	})
	mux.HandleFunc("GET /all", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		mark(w, s)
		all := map[string]string{}
		for _, k := range s.Keys() {
			v, err := core.Lookup[string](s, k)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			all[k] = v
		}
		json.NewEncoder(w).Encode(all)
	})
	return mux
}

// ---------------------------------------------------------------------------
// The harness

// sess is a session the workers know the token of.
type sess struct {
	label   string    // "s12" (created before the load) or "f3.1" (by worker 3)
	token   string    // its cookie's value
	seeded  bool      // holds "seed" = label, written once, before the load
	writers []int     // the workers with a key in it
	slots   []*slot   // theirs, one each
	created time.Time // when its creation was answered 200 (fresh sessions)
	// lost: created in a replication window and gone after the failover
	// (asynchronous replication lost it); its worker stops using it.
	lost atomic.Bool
}

// slot is one worker's key in one session, and the worker's ledger of it.
type slot struct {
	s   *sess
	key string // "k07" for worker 7
	// cands are the states the key may be in. cands[0] is the last one
	// known to have landed: the last write answered 200, or, if later, the
	// last one a read has seen. The rest are the writes after it that were
	// answered otherwise (503): each may or may not have landed, and later
	// ones land after earlier ones.
	cands []state
}

// state is a key's state after one of its writes.
type state struct {
	seq    int64  // the worker's write counter
	absent bool   // deleted (or never written: seq 0)
	value  string // "<session label>/<key>/<seq>"
	// With a replicated store (harness.lossy): acked says the write was
	// answered 200, at when. Such a write is kept in the ledger, after
	// older states, until it is durable (see harness.compact).
	acked bool
	at    time.Time
}

func (st state) String() string {
	if st.absent {
		return fmt.Sprintf("absent(#%d)", st.seq)
	}
	return strconv.Quote(st.value)
}

// answer is what one request got.
type answer struct {
	method, path string
	withCookie   bool
	code         int // -1 when the handler panicked
	body         string
	setCookies   []*http.Cookie
	isNew        string // the Soak-New header
	took         time.Duration
	start, end   time.Time
	sess         *sess // the session whose cookie it carried, or nil
	startPhase   int
	endPhase     int
	panicked     string
}

func (a *answer) String() string {
	return fmt.Sprintf("%s %s (cookie %v, phase %d..%d, %v): %d %q", a.method, a.path, a.withCookie, a.startPhase, a.endPhase, a.took.Round(time.Millisecond), a.code, truncate(a.body))
}

// phaseStats counts the answers to requests by the phase they started in.
type phaseStats struct {
	ok, notFound, unavailable, other atomic.Int64
	// inside503 and inside200 count requests that started and ended in
	// this phase.
	inside503, inside200 atomic.Int64
	took                 time.Duration // written by the controller only
}

// Phases: 0 is the warm-up; fault k has stopping(k) (the store is being
// taken down), outage(k) (it is down), restarting(k) (it is being brought
// back) and after(k) (it is back); verifyPhase follows the last. The phase
// changes before and after each change to the store, never with it, so a
// request that ends in a phase saw only that phase's store.
const phasesPerFault = 4

func stopping(k int) int   { return 1 + phasesPerFault*k }
func outage(k int) int     { return 2 + phasesPerFault*k }
func restarting(k int) int { return 3 + phasesPerFault*k }
func after(k int) int      { return 4 + phasesPerFault*k }

// faultOf is the index of the fault that phase p belongs to.
func faultOf(p int) int { return (p - 1) / phasesPerFault }

type harness struct {
	plan
	m       *core.Manager
	handler http.Handler
	cookie  string // the session cookie's name
	faults  []fault
	seed    uint64

	phase       atomic.Int32
	verifyPhase int
	stats       []phaseStats
	ops         atomic.Int64
	reqID       atomic.Int64
	events      [16]atomic.Int64
	fresh200    atomic.Int64
	landed      atomic.Int64   // reads that saw a write answered 503
	attempts    []atomic.Int64 // per worker: the last write counter sent
	deadlineAt  time.Time
	// onPhase, when set, is called as each phase begins (cacheSoak's
	// sampler), by the goroutine running the phases.
	onPhase func(p int)

	mu         sync.Mutex
	tracked    []*sess // every session with a token: seeded, then new ones
	violations map[string][]string
	vcount     map[string]int
	writes     []writeRec // with lossy: every write and its answer
	// awaiting is the failover whose sessions are not yet served again:
	// set once its snapshot is done, cleared by the first write on one
	// of them acknowledged after the kill, which sets its back.
	awaiting *failoverRecord

	// With a fault that fails over to an asynchronous replica, lossy is
	// set, and windows are the replication windows, in which an
	// acknowledged write may be lost (see failDown). wmu guards them.
	lossy     bool
	wmu       sync.Mutex
	windows   []window
	failovers []*failoverRecord // by fault, nil for the others
	// Sessions created in a window and lost with it: how many, how many
	// requests carried their cookies afterwards (each an unknown token),
	// and how many of those stored a new session.
	lostSessions, lostHits, lostRecreated atomic.Int64
	// seenLost counts acknowledged writes of a window that a later
	// durable read found gone.
	seenLost atomic.Int64
}

// window is a replication window: from opens it (before the replica's
// catch-up is sampled), to closes it (the promotion seen), zero while open.
type window struct{ from, to time.Time }

// writeRec is one write a worker sent, for the failover report.
type writeRec struct {
	sess       *sess
	key        string
	st         state
	code       int
	start, end time.Time
}

// reqKey carries a request's number in its context, for the stores of the
// controls that need to tie a Load to its Update.
type reqKey struct{}

func newHarness(t *testing.T, st core.Store, p plan, faults ...fault) *harness {
	t.Helper()
	require.Zero(t, p.workers%p.sharing, "workers must split evenly among a session's writers")
	require.GreaterOrEqual(t, p.sessions, p.workers)
	h := &harness{
		plan:        p,
		faults:      faults,
		seed:        rand.Uint64(),
		verifyPhase: after(len(faults)-1) + 1,
		attempts:    make([]atomic.Int64, p.workers),
		violations:  map[string][]string{},
		vcount:      map[string]int{},
	}
	if len(faults) == 0 {
		h.verifyPhase = 1
	}
	h.failovers = make([]*failoverRecord, len(faults))
	for _, f := range faults {
		h.lossy = h.lossy || f.replica != nil
	}
	h.stats = make([]phaseStats, h.verifyPhase+1)
	m, err := core.New(core.Config{
		Store:  st,
		Logger: slog.New(slog.DiscardHandler),
		OnEvent: func(_ context.Context, e core.Event) {
			if int(e.Kind) < len(h.events) {
				h.events[e.Kind].Add(1)
			}
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	h.m, h.handler, h.cookie = m, sessionhttp.New(m)(app()), m.Config().Cookie.Name
	t.Logf("seed %#x; %d workers, %d sessions (%d writers each), quota %d, deadline %v",
		h.seed, p.workers, p.sessions, p.sharing, p.quota, p.deadline)
	return h
}

// violate records a broken invariant. Workers call it; the test reports
// them all at the end.
func (h *harness) violate(kind, format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.vcount[kind]++
	if len(h.violations[kind]) < 8 {
		h.violations[kind] = append(h.violations[kind], fmt.Sprintf(format, args...))
	}
}

func (h *harness) violationCount(kind string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.vcount[kind]
}

// do sends one request through the middleware and the application, with
// s's cookie unless s is nil.
func (h *harness) do(method, path, body string, s *sess) *answer {
	token := ""
	if s != nil {
		token = s.token
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.reqTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, reqKey{}, h.reqID.Add(1))
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(ctx, method, path, rd)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: h.cookie, Value: token})
	}
	rec := httptest.NewRecorder()
	a := &answer{method: method, path: path, withCookie: token != "", sess: s}
	a.startPhase = int(h.phase.Load())
	start := time.Now()
	a.start = start
	func() {
		defer func() {
			if p := recover(); p != nil {
				a.panicked = fmt.Sprintf("%v\n%s", p, debug.Stack())
			}
		}()
		h.handler.ServeHTTP(rec, req)
	}()
	a.end = time.Now()
	a.took = a.end.Sub(start)
	a.endPhase = int(h.phase.Load())
	res := rec.Result()
	a.code, a.body, a.setCookies = res.StatusCode, rec.Body.String(), res.Cookies()
	if a.panicked != "" {
		a.code = -1
	}
	a.isNew = rec.Header().Get("Soak-New")
	h.count(a)
	h.check(a)
	return a
}

func (h *harness) count(a *answer) {
	ps := &h.stats[a.startPhase]
	switch a.code {
	case http.StatusOK:
		ps.ok.Add(1)
	case http.StatusNotFound:
		ps.notFound.Add(1)
	case http.StatusServiceUnavailable:
		ps.unavailable.Add(1)
	default:
		ps.other.Add(1)
	}
	if a.startPhase == a.endPhase {
		switch a.code {
		case http.StatusOK:
			ps.inside200.Add(1)
		case http.StatusServiceUnavailable:
			ps.inside503.Add(1)
		}
	}
}

// isOutage reports whether p is a phase in which the store is down.
func (h *harness) isOutage(p int) bool {
	return p != 0 && p != h.verifyPhase && p == outage(faultOf(p))
}

// slowMargin is how far past its deadline a request may be answered before
// it counts as hanging: room for a loaded machine running -race, where a
// goroutine may wait seconds for a CPU.
const slowMargin = 5 * time.Second

// check holds every answer to the rules that do not depend on the ledger.
func (h *harness) check(a *answer) {
	if a.panicked != "" {
		h.violate("panic", "%s: %s", a, a.panicked)
		return
	}
	switch a.code {
	case http.StatusOK:
	case http.StatusNotFound:
		if a.method != "GET" || !strings.HasPrefix(a.path, "/v/") {
			h.violate("status", "%s", a)
		}
	case http.StatusServiceUnavailable:
		if len(h.faults) == 0 {
			h.violate("status", "503 from a store that never failed: %s", a)
		} else if a.endPhase == 0 {
			h.violate("status", "503 before the first fault: %s", a)
		}
		if a.body != adapterkit.ErrorBody {
			h.violate("status", "503 with another body than the generic one: %s", a)
		}
	default:
		h.violate("status", "%s", a)
	}
	if a.startPhase == a.endPhase && h.isOutage(a.startPhase) && !h.faults[faultOf(a.startPhase)].partial && a.code != http.StatusServiceUnavailable {
		h.violate("answered while down", "%s", a)
	}
	// A cookie served as new is fail-open, unless its session was lost
	// with a replication window.
	lost := a.withCookie && (len(a.setCookies) > 0 || a.isNew == "true") && h.lostInWindow(a)
	if a.withCookie && !lost {
		if len(a.setCookies) > 0 {
			h.violate("fail-open (Set-Cookie)", "a request with a valid cookie got a Set-Cookie of %s: %s", cookieNames(a.setCookies), a)
		}
		if a.isNew == "true" {
			h.violate("fail-open (new session)", "a request with a valid cookie was served a new session: %s", a)
		}
	}
	if bound := h.reqTimeout + slowMargin; a.took > bound {
		h.violate("slow", "answered after %v, past its deadline of %v: %s", a.took, h.reqTimeout, a)
	}
}

// lostInWindow reports whether a, which carried a cookie and was served a
// new session, is explained by asynchronous replication: its session was
// created in a replication window (so the promoted replica may never have
// had it). It marks the session lost, for its worker to drop, and counts
// the request.
func (h *harness) lostInWindow(a *answer) bool {
	s := a.sess
	if s == nil || s.created.IsZero() || !h.atRisk(s.created) {
		return false
	}
	if s.lost.CompareAndSwap(false, true) {
		h.lostSessions.Add(1)
	}
	h.lostHits.Add(1)
	if h.tokenOf(a) != "" {
		h.lostRecreated.Add(1)
	}
	return true
}

// openWindow opens a replication window now and returns its start. A write
// answered before it is on the master before it, so in the offset the
// replica's catch-up samples next: durable. The lock orders it against
// atRisk: a worker that saw no window had its answer before from.
func (h *harness) openWindow() time.Time {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	from := time.Now()
	h.windows = append(h.windows, window{from: from})
	return from
}

// closeWindow closes the open window now: the promotion has been seen,
// and what the promoted replica acknowledges from now on is kept.
func (h *harness) closeWindow() time.Time {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	to := time.Now()
	h.windows[len(h.windows)-1].to = to
	return to
}

// atRisk reports whether an answer or a read at t falls in a replication
// window, open or closed: what it saw may not survive the failover.
func (h *harness) atRisk(t time.Time) bool {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	for _, w := range h.windows {
		if !t.Before(w.from) && (w.to.IsZero() || !t.After(w.to)) {
			return true
		}
	}
	return false
}

// settle enters a write's outcome in the slot's ledger (and, with lossy,
// in the log of writes).
func (h *harness) settle(sl *slot, st state, a *answer) {
	if h.lossy {
		h.mu.Lock()
		h.writes = append(h.writes, writeRec{sess: sl.s, key: sl.key, st: st, code: a.code, start: a.start, end: a.end})
		if f := h.awaiting; f != nil && a.code == http.StatusOK && a.start.After(f.killed) && f.snap[sl.s] != nil {
			f.back, h.awaiting = true, nil
		}
		h.mu.Unlock()
	}
	if a.code == http.StatusOK && !h.lossy {
		sl.cands = []state{st}
		return
	}
	if a.code == http.StatusOK {
		st.acked, st.at = true, a.end
	}
	sl.cands = append(sl.cands, st) // a 503 may have landed
	h.compact(sl)
}

// compact drops, with lossy, the states a durable write has superseded: an
// acknowledged write answered outside every replication window is the
// last landed state, as a 200 is without replication. One answered in a
// window is kept after the older states, any of which the failover may
// bring back.
func (h *harness) compact(sl *slot) {
	for i := len(sl.cands) - 1; i > 0; i-- {
		if c := sl.cands[i]; c.acked && !h.atRisk(c.at) {
			sl.cands = sl.cands[i:]
			return
		}
	}
}

// observe checks a read of the slot's key (present says whether it was
// there), which ended at, against the ledger, and narrows the ledger to
// what the read saw. With lossy, a read in a replication window proves
// nothing durable and narrows nothing; one outside them makes what it saw
// the last landed state, and the acknowledged writes after it, answered
// before the read, lost (in a window: by replication).
func (h *harness) observe(sl *slot, value string, present bool, where string, at time.Time) {
	if h.lossy {
		h.compact(sl)
	}
	match := -1
	for i, c := range sl.cands {
		if c.absent == !present && (!present || c.value == value) {
			match = i
			// Values are unique, absent is not: without lossy the first
			// match narrows least; with it, the last, so that no
			// acknowledged write after it is taken for lost when a later
			// delete explains the read.
			if !h.lossy {
				break
			}
		}
	}
	if match >= 0 {
		c := sl.cands[match]
		if match > 0 && !c.acked {
			h.landed.Add(1)
		}
		switch {
		case !h.lossy:
			sl.cands = sl.cands[match:]
		case !h.atRisk(at):
			keep := []state{c}
			for _, later := range sl.cands[match+1:] {
				if later.acked {
					h.seenLost.Add(1)
					continue
				}
				keep = append(keep, later) // a 503 may still land
			}
			sl.cands = keep
		}
		return
	}
	got := "absent"
	if present {
		got = strconv.Quote(value)
	}
	h.violate("lost write", "%s: session %s key %s reads %s; legal: %v", where, sl.s.label, sl.key, got, sl.cands)
}

// wellFormed checks a whole session's values: only the seed and its
// writers' keys, each value naming this session and its own key, and a
// write counter its worker has reached.
func (h *harness) wellFormed(s *sess, all map[string]string, where string) {
	if s.seeded {
		if v, ok := all["seed"]; !ok || v != s.label {
			h.violate("lost write", "%s: session %s: seed is %q (present %v), want %q", where, s.label, v, ok, s.label)
		}
	}
	for k, v := range all {
		if k == "seed" && s.seeded {
			continue
		}
		w := -1
		for _, x := range s.writers {
			if k == keyOf(x) {
				w = x
			}
		}
		parts := strings.Split(v, "/")
		var seq int64 = -1
		if len(parts) == 3 {
			seq, _ = strconv.ParseInt(parts[2], 10, 64)
		}
		if w < 0 || len(parts) != 3 || parts[0] != s.label || parts[1] != k || seq < 1 || seq > h.attempts[w].Load() {
			h.violate("foreign", "%s: session %s holds %s=%q, which no writer of it wrote", where, s.label, k, v)
		}
	}
}

func keyOf(w int) string { return fmt.Sprintf("k%02d", w) }

// readAll reads a whole session through the handler.
func (h *harness) readAll(s *sess) (*answer, map[string]string) {
	a := h.do("GET", "/all", "", s)
	if a.code != http.StatusOK {
		return a, nil
	}
	var all map[string]string
	if err := json.Unmarshal([]byte(a.body), &all); err != nil {
		h.violate("status", "GET /all answered 200 with a body that is no JSON object: %v: %s", err, a)
		return a, nil
	}
	return a, all
}

// ---------------------------------------------------------------------------
// Running

// run seeds the sessions, runs the workers through the phases, and reads
// every session back.
func (h *harness) run(t *testing.T) {
	t.Helper()
	began := time.Now()
	h.seedSessions(t)

	// Each seeded session i has sharing writers, spread over the workers:
	// (i + j*workers/sharing) mod workers.
	own := make([][]*slot, h.workers)
	for i, s := range h.tracked {
		for j := 0; j < h.sharing; j++ {
			w := (i + j*h.workers/h.sharing) % h.workers
			sl := &slot{s: s, key: keyOf(w), cands: []state{{absent: true}}}
			s.writers = append(s.writers, w)
			s.slots = append(s.slots, sl)
			own[w] = append(own[w], sl)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	h.deadlineAt = time.Now().Add(h.deadline)
	for w := 0; w < h.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.worker(w, own[w], rand.New(rand.NewPCG(h.seed, uint64(w))), stop)
		}()
	}

	h.waitPhase(0, 0, func() bool { return h.stats[0].ok.Load() >= int64(h.quota) })
	for k, f := range h.faults {
		down, up := f.down, f.up
		if f.replica != nil {
			down = func() error { return h.failDown(k) }
			up = func() error { return h.failUp(k) }
		}
		h.transition(stopping(k), down, "%s: taking the store down: %v", f.name)
		h.setPhase(outage(k))
		h.waitPhase(outage(k), h.minDown, func() bool { return h.stats[outage(k)].inside503.Load() >= int64(h.workers) })
		h.transition(restarting(k), up, "%s: bringing the store back: %v", f.name)
		h.setPhase(after(k))
		// After a failover, the phase lasts until the failed-over
		// sessions are served again: the other masters' 200s alone may
		// fill the quota before the client has followed the promotion.
		h.waitPhase(after(k), 0, func() bool { return h.stats[after(k)].ok.Load() >= int64(h.quota) && h.servedAgain(k) })
	}
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2*h.reqTimeout + 10*time.Second):
		t.Fatalf("workers still busy %v after the load ended: a request never answered\n%s", 2*h.reqTimeout+10*time.Second, allStacks())
	}
	h.setPhase(h.verifyPhase)
	loaded := time.Since(began)

	h.verify()
	h.checkEvents()
	h.checkFailovers(t)
	t.Logf("%d requests under load in %v, %v in all", h.ops.Load(), loaded.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	for p := range h.stats {
		ps := &h.stats[p]
		t.Logf("  %-20s %6v  200:%-6d 404:%-5d 503:%-5d other:%-3d  (503 entirely inside: %d)",
			h.phaseName(p), ps.took.Round(time.Millisecond), ps.ok.Load(), ps.notFound.Load(), ps.unavailable.Load(), ps.other.Load(), ps.inside503.Load())
	}
	var ev []string
	for k := range h.events {
		if n := h.events[k].Load(); n > 0 {
			ev = append(ev, fmt.Sprintf("%v:%d", core.EventKind(k), n))
		}
	}
	t.Logf("  events: %s", strings.Join(ev, " "))
	t.Logf("  reads that found a write answered 503 had landed: %d", h.landed.Load())
}

func (h *harness) phaseName(p int) string {
	switch {
	case p == 0:
		return "warm-up"
	case p == h.verifyPhase:
		return "read-back"
	}
	k := faultOf(p)
	f := h.faults[k].name
	switch p {
	case stopping(k):
		return f + " down..."
	case outage(k):
		return f + " down"
	case restarting(k):
		return f + " up..."
	}
	return "after " + f
}

func (h *harness) setPhase(p int) {
	h.phase.Store(int32(p))
	if h.onPhase != nil {
		h.onPhase(p)
	}
}

// transition runs change to the store in phase p and times it.
func (h *harness) transition(p int, change func() error, format, name string) {
	h.setPhase(p)
	start := time.Now()
	if err := change(); err != nil {
		h.violate("harness", format, name, err)
	}
	h.stats[p].took = time.Since(start)
}

// waitPhase waits until the phase has lasted min and enough says so, or it
// has lasted phaseMax, or the run's deadline or op budget is reached.
func (h *harness) waitPhase(p int, min time.Duration, enough func() bool) {
	start := time.Now()
	for {
		took := time.Since(start)
		if (took >= min && enough()) || took >= h.phaseMax || time.Now().After(h.deadlineAt) || h.ops.Load() >= int64(h.maxOps) {
			h.stats[p].took = took
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// seedSessions creates the sessions the workers share, with the store up.
func (h *harness) seedSessions(t *testing.T) {
	t.Helper()
	for i := 0; i < h.plan.sessions; i++ {
		s := &sess{label: fmt.Sprintf("s%d", i), seeded: true}
		a := h.do("PUT", "/v/seed", s.label, nil)
		require.Equal(t, http.StatusOK, a.code, "seeding: %s", a)
		s.token = h.tokenOf(a)
		require.NotEmpty(t, s.token, "seeding: no session cookie: %s", a)
		h.tracked = append(h.tracked, s)
	}
}

// tokenOf is the session token a response set, or "".
func (h *harness) tokenOf(a *answer) string {
	for _, c := range a.setCookies {
		if c.Name == h.cookie && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// worker sends requests until stop: puts, deletes and reads of its own
// keys, reads of whole sessions, and new sessions of its own. After a 503
// it backs off for a moment, as a client would, so that an outage, where
// answers come fast, does not eat the run's request budget.
func (h *harness) worker(w int, slots []*slot, rng *rand.Rand, stop <-chan struct{}) {
	created := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		if h.ops.Add(1) > int64(h.maxOps) {
			return
		}
		var a *answer
		if h.lossy {
			slots = slices.DeleteFunc(slots, func(sl *slot) bool { return sl.s.lost.Load() })
		}
		sl := slots[rng.IntN(len(slots))]
		switch r := rng.IntN(100); {
		case r < 5 && created < h.fresh:
			created++
			var s *sess
			if s, a = h.create(w, created); s != nil {
				slots = append(slots, s.slots[0])
			}
		case r < 55:
			seq := h.attempts[w].Add(1)
			st := state{seq: seq, value: fmt.Sprintf("%s/%s/%d", sl.s.label, sl.key, seq)}
			a = h.do("PUT", "/v/"+sl.key, st.value, sl.s)
			h.settle(sl, st, a)
		case r < 65:
			seq := h.attempts[w].Add(1)
			a = h.do("DELETE", "/v/"+sl.key, "", sl.s)
			h.settle(sl, state{seq: seq, absent: true}, a)
		case r < 85:
			a = h.do("GET", "/v/"+sl.key, "", sl.s)
			switch {
			case sl.s.lost.Load():
			case a.code == http.StatusOK:
				h.observe(sl, a.body, true, "GET /v/"+sl.key, a.end)
			case a.code == http.StatusNotFound:
				h.observe(sl, "", false, "GET /v/"+sl.key, a.end)
			}
		default:
			var all map[string]string
			if a, all = h.readAll(sl.s); all != nil && !sl.s.lost.Load() {
				h.wellFormed(sl.s, all, "GET /all")
				v, ok := all[sl.key]
				h.observe(sl, v, ok, "GET /all", a.end)
			}
		}
		if a.code == http.StatusServiceUnavailable {
			time.Sleep(time.Millisecond + time.Duration(rng.Int64N(int64(4*time.Millisecond))))
		}
	}
}

// create makes a new session of the worker's own with a first write of its
// key, and returns it when the response set its cookie, with the answer.
func (h *harness) create(w, n int) (*sess, *answer) {
	s := &sess{label: fmt.Sprintf("f%d.%d", w, n), writers: []int{w}}
	seq := h.attempts[w].Add(1)
	st := state{seq: seq, value: fmt.Sprintf("%s/%s/%d", s.label, keyOf(w), seq)}
	a := h.do("PUT", "/v/"+keyOf(w), st.value, nil)
	token := h.tokenOf(a)
	switch {
	case a.code == http.StatusOK && token == "":
		h.violate("create", "a new session answered 200 without its cookie: %s", a)
	case a.code == http.StatusOK && a.isNew != "true":
		h.violate("create", "a request without a cookie was served a stored session: %s", a)
	case a.code != http.StatusOK && len(a.setCookies) > 0:
		h.violate("create", "a failed creation set a cookie, %s: %s", cookieNames(a.setCookies), a)
	}
	if a.code != http.StatusOK || token == "" {
		return nil, a
	}
	h.fresh200.Add(1)
	s.token, s.created = token, a.end
	if h.lossy {
		st.acked, st.at = true, a.end
		h.mu.Lock()
		h.writes = append(h.writes, writeRec{sess: s, key: keyOf(w), st: st, code: a.code, start: a.start, end: a.end})
		h.mu.Unlock()
	}
	// Before its creation the key was absent: a failover that loses the
	// creation loses the session, which lostInWindow tells.
	s.slots = []*slot{{s: s, key: keyOf(w), cands: []state{st}}}
	h.mu.Lock()
	h.tracked = append(h.tracked, s)
	h.mu.Unlock()
	return s, a
}

// verify reads every session back through the handler, once the load is
// over and the store is up, and checks every ledger against it. A 503 is
// retried for a few seconds: the Redis client, or the PostgreSQL pool, may
// still be reconnecting.
func (h *harness) verify() {
	deadline := time.Now().Add(5 * time.Second)
	for _, s := range h.tracked {
		var a *answer
		var all map[string]string
		for {
			a, all = h.readAll(s)
			if a.code != http.StatusServiceUnavailable || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if s.lost.Load() {
			continue // lost with a replication window, and told by lostInWindow
		}
		if all == nil {
			h.violate("lost write", "read-back: session %s unreadable: %s", s.label, a)
			continue
		}
		h.wellFormed(s, all, "read-back")
		for _, sl := range s.slots {
			v, ok := all[sl.key]
			h.observe(sl, v, ok, "read-back", a.end)
		}
	}
}

// ---------------------------------------------------------------------------
// Assertions

// checkEvents checks the manager's events once the run is over: every
// valid token was known and live, no write was dropped behind a 200, and
// exactly the sessions answered 200 were created.
func (h *harness) checkEvents() {
	for _, k := range []core.EventKind{core.EventExpired, core.EventWriteDropped,
		core.EventRenewed, core.EventRotated, core.EventDestroyed, core.EventRevoked} {
		if n := h.events[k].Load(); n != 0 {
			h.violate("event", "%d %v events", n, k)
		}
	}
	// Every cookie of a session lost with a replication window is an
	// unknown token; no other may be.
	if n, lost := h.events[core.EventInvalidToken].Load(), h.lostHits.Load(); n != lost {
		h.violate("event", "%d %v events, %d of them for sessions lost with a replication window", n, core.EventInvalidToken, lost)
	}
	want := int64(h.plan.sessions) + h.fresh200.Load() + h.lostRecreated.Load()
	if got := h.events[core.EventCreated].Load(); got != want {
		h.violate("event", "%d sessions created, but %d were answered 200", got, want)
	}
	if n := h.events[core.EventStoreError].Load(); n != 0 && len(h.faults) == 0 {
		h.violate("event", "%d store errors from a store that never failed", n)
	}
}

// requireClean fails the test with every violation the run recorded.
func (h *harness) requireClean(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	kinds := make([]string, 0, len(h.vcount))
	for k := range h.vcount {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Errorf("%d× %s, the first:\n  %s", h.vcount[k], k, strings.Join(h.violations[k], "\n  "))
	}
}

// logViolations logs what a control run caught.
func (h *harness) logViolations(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, n := range h.vcount {
		t.Logf("caught %d× %s, e.g. %s", n, k, truncate(h.violations[k][0]))
	}
}

// requireOutages checks that each outage happened and ended: requests
// answered 503 while the store was down, and 200 once it was back.
func (h *harness) requireOutages(t *testing.T) {
	t.Helper()
	for k, f := range h.faults {
		assert.GreaterOrEqual(t, h.stats[outage(k)].inside503.Load(), int64(h.workers),
			"%s: requests answered 503 while the store was down", f.name)
		assert.GreaterOrEqual(t, h.stats[after(k)].ok.Load(), int64(h.workers),
			"%s: requests answered 200 after the store came back", f.name)
	}
	assert.NotZero(t, h.events[core.EventStoreError].Load(), "no store error events")
}

// ---------------------------------------------------------------------------
// Stores

var errDown = errors.New("soak: store down (simulated)")

// outageStore fails every call while it is down. Of the writes it fails,
// every other one is applied first, as when a write lands and its
// acknowledgement is lost. While its acknowledgements are lost, reads work
// and every write is applied and then failed. With failOpen, while it is
// down its writes work and a Load reports the session missing, as a store
// that turned its read errors into misses would.
type outageStore struct {
	store.Store
	failOpen bool
	mode     atomic.Int32 // storeUp, storeDown or acksLost
	n        atomic.Uint64
	landed   atomic.Int64
}

const (
	storeUp int32 = iota
	storeDown
	acksLost
)

// fault takes the store down altogether.
func (s *outageStore) fault(name string) fault {
	return fault{
		name: name,
		down: func() error { s.mode.Store(storeDown); return nil },
		up:   func() error { s.mode.Store(storeUp); return nil },
	}
}

// lostAcks makes the store apply every write and then fail it.
func (s *outageStore) lostAcks(name string) fault {
	return fault{
		name:    name,
		partial: true,
		down:    func() error { s.mode.Store(acksLost); return nil },
		up:      func() error { s.mode.Store(storeUp); return nil },
	}
}

// write runs apply, or fails: before or after applying it.
func (s *outageStore) write(apply func() error) error {
	mode := s.mode.Load()
	if mode == storeUp || (mode == storeDown && s.failOpen) {
		return apply()
	}
	if mode == storeDown && s.n.Add(1)%2 != 0 {
		return errDown // failed before it reached the store
	}
	if apply() == nil {
		s.landed.Add(1)
	}
	return errDown // applied, and failed on the way back
}

func (s *outageStore) Load(ctx context.Context, id string, opts store.LoadOptions) (*store.Record, error) {
	if s.mode.Load() == storeDown {
		if s.failOpen {
			return nil, store.ErrNotFound
		}
		return nil, errDown
	}
	return s.Store.Load(ctx, id, opts)
}

func (s *outageStore) Create(ctx context.Context, id string, rec *store.Record, opts store.WriteOptions) (ev []string, err error) {
	err = s.write(func() error { ev, err = s.Store.Create(ctx, id, rec, opts); return err })
	return ev, err
}

func (s *outageStore) Update(ctx context.Context, id string, ch *store.Change) error {
	return s.write(func() error { return s.Store.Update(ctx, id, ch) })
}

func (s *outageStore) Renew(ctx context.Context, oldID, newID string, ch *store.Change, opts store.WriteOptions) (ev []string, err error) {
	err = s.write(func() error { ev, err = s.Store.Renew(ctx, oldID, newID, ch, opts); return err })
	return ev, err
}

func (s *outageStore) Delete(ctx context.Context, id string) (existed bool, err error) {
	err = s.write(func() error { existed, err = s.Store.Delete(ctx, id); return err })
	return existed, err
}

func (s *outageStore) ListUser(ctx context.Context, userID string, now time.Time) ([]store.Entry, error) {
	if s.mode.Load() == storeDown {
		return nil, errDown
	}
	return s.Store.ListUser(ctx, userID, now)
}

func (s *outageStore) DeleteUser(ctx context.Context, userID, keepID string) (ids []string, err error) {
	err = s.write(func() error { ids, err = s.Store.DeleteUser(ctx, userID, keepID); return err })
	return ids, err
}

// lossyStore acknowledges one update in seven without applying it.
type lossyStore struct {
	store.Store
	n atomic.Uint64
}

func (s *lossyStore) Update(ctx context.Context, id string, ch *store.Change) error {
	if s.n.Add(1)%7 == 0 {
		return nil
	}
	return s.Store.Update(ctx, id, ch)
}

// blobStore writes a session back whole, as its request loaded it plus the
// request's change, so a concurrent request's write to another key is
// overwritten. A pause between the read and the write lets requests meet.
type blobStore struct {
	store.Store
	loaded sync.Map // request number → the values its Load returned
}

func (s *blobStore) Load(ctx context.Context, id string, opts store.LoadOptions) (*store.Record, error) {
	rec, err := s.Store.Load(ctx, id, opts)
	if err == nil {
		s.loaded.Store(ctx.Value(reqKey{}), rec.Values)
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
	}
	return rec, err
}

func (s *blobStore) Update(ctx context.Context, id string, ch *store.Change) error {
	old, ok := s.loaded.LoadAndDelete(ctx.Value(reqKey{}))
	if ok {
		whole := *ch
		whole.Clear, whole.Del = true, nil
		whole.Set = ch.ApplyValues(old.(map[string][]byte))
		ch = &whole
	}
	return s.Store.Update(ctx, id, ch)
}

// panicStore panics on one update in fifty.
type panicStore struct {
	store.Store
	n atomic.Uint64
}

func (s *panicStore) Update(ctx context.Context, id string, ch *store.Change) error {
	if s.n.Add(1)%50 == 0 {
		panic("soak: a store that panics")
	}
	return s.Store.Update(ctx, id, ch)
}

// ---------------------------------------------------------------------------

// cookieNames names the cookies, and not their values (tokens).
func cookieNames(cs []*http.Cookie) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
