package soak

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// sentinelStores starts a master, its replica and three sentinels, and
// returns them with the store under test (NewClient's Sentinel client,
// which follows the elected master) and a store reading the replica
// directly, for the snapshot right after a kill.
func sentinelStores(t *testing.T, opts redisstore.Options) (sn *redistest.Sentinel, st, rst *redisstore.Store, rep *redistest.Server) {
	t.Helper()
	sn = redistest.NewSentinel(t)
	client, err := redisstore.NewClient(sn.Addrs(), 0, func(o *redis.UniversalOptions) { o.MasterName = sn.MasterName() })
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	st = newStore(t, client, opts)
	rep, err = sn.Replica()
	require.NoError(t, err)
	rc := redis.NewClient(&redis.Options{Addr: rep.Addr()})
	t.Cleanup(func() { rc.Close() })
	rst, err = redisstore.New(rc, redisstore.Options{})
	require.NoError(t, err)
	return sn, st, rst, rep
}

// TestSoakRedisSentinel: a master, its replica and three sentinels; the
// master is killed (SIGKILL) under load and the sentinels promote the
// replica. The store's client is NewClient's Sentinel client, which
// follows the promotion.
func TestSoakRedisSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a master, a replica and three sentinels")
	}
	leakCheck(t)
	sn, st, rst, rep := sentinelStores(t, storeOpts(false))

	var old *redistest.Server
	h := newHarness(t, st, fullPlan(), fault{
		name: "Sentinel failover",
		// The promotion ends the outage by itself, whenever it comes.
		partial: true,
		down: func() (err error) {
			old, err = sn.KillMaster()
			return err
		},
		up: func() error {
			_, err := sn.WaitFailover(old, redistest.PromotionTimeout)
			return err
		},
		replica: &replica{
			sync:  func() error { return sn.WaitReplicated(redistest.ReplicationTimeout) },
			store: rst,
			role:  rep.Role,
		},
	})
	h.run(t)
	h.requireClean(t)
	h.requireOutages(t)
	rec := h.failovers[0]
	require.NotNil(t, rec)
	assert.Zero(t, rec.unknown, "sessions the replica could not answer for")
	assert.NotZero(t, rec.refused, "no write in flight at the kill was refused: the master was never down")
}

// TestSoakRedisSentinelLosesWindow: TestSoakRedisSentinel with the
// replica cut off from its master for the last 100 ms before the kill
// (the master drops its replica's link, and refuses it PSYNC and SYNC), as
// a replica lagging behind would be. The writes acknowledged meanwhile are
// lost with the master: the soak must count them as lost in the
// replication window, tolerate them, and still find every write
// acknowledged before the window on the promoted replica.
func TestSoakRedisSentinelLosesWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a master, a replica and three sentinels")
	}
	leakCheck(t)
	sn, st, rst, rep := sentinelStores(t, storeOpts(false))
	master, err := sn.Master()
	require.NoError(t, err)
	admin := redis.NewClient(&redis.Options{Addr: master.Addr()})
	t.Cleanup(func() { admin.Close() })

	p := fullPlan()
	p.workers, p.sessions, p.quota = 16, 32, 500
	h := newHarness(t, st, p, fault{
		name:    "Sentinel failover, replica cut off",
		partial: true,
		down: func() error {
			ctx := context.Background()
			if err := admin.Do(ctx, "ACL", "SETUSER", "default", "-psync", "-sync").Err(); err != nil {
				return err
			}
			if err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(); err != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond)
			return master.Kill()
		},
		up: func() error {
			_, err := sn.WaitFailover(master, redistest.PromotionTimeout)
			return err
		},
		replica: &replica{
			sync:  func() error { return sn.WaitReplicated(redistest.ReplicationTimeout) },
			store: rst,
			role:  rep.Role,
		},
	})
	h.run(t)
	h.requireClean(t)
	h.requireOutages(t)
	rec := h.failovers[0]
	require.NotNil(t, rec)
	assert.NotZero(t, rec.ackedInWindow-rec.ackedKept, "no acknowledged write was lost with the cut-off master")
}

// TestSoakRedisClusterFailover: three masters, each with a replica; one
// master is killed (SIGKILL) under load and its replica promoted. The
// sessions on the other masters keep working meanwhile. The client is
// NewClient's, which reloads its slot map when a command finds a node
// gone and every second (go-redis alone does neither).
func TestSoakRedisClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster of six nodes")
	}
	leakCheck(t)
	c := redistest.NewClusterWithReplicas(t)
	st, rep, rst, owns := clusterFailoverStores(t, c, storeOpts(false))
	masters, err := c.Masters()
	require.NoError(t, err)
	victim := masters[1]

	h := newHarness(t, st, fullPlan(), fault{
		name:    "Cluster failover",
		partial: true,
		down:    victim.Kill,
		up:      func() error { return c.WaitPromoted(rep, redistest.PromotionTimeout) },
		replica: &replica{
			sync:  func() error { return c.WaitReplicated(redistest.ReplicationTimeout) },
			store: rst,
			role:  rep.Role,
			owns:  owns,
		},
	})
	h.run(t)
	h.requireClean(t)
	h.requireOutages(t)
	assert.NotZero(t, h.stats[outage(0)].inside200.Load(), "the other masters kept serving while one failed over")
	rec := h.failovers[0]
	require.NotNil(t, rec)
	assert.NotZero(t, len(rec.snap), "no session on the failed-over master")
}

// clusterFailoverStores returns, for a cluster with replicas, the store
// under test (NewClient's cluster client, with opts), the replica of the
// second master, a store reading that replica directly, and a function
// telling whether a key is on the replica's slots.
func clusterFailoverStores(t *testing.T, c *redistest.Cluster, opts redisstore.Options) (st *redisstore.Store, rep *redistest.Server, rst *redisstore.Store, owns func(context.Context, string) (bool, error)) {
	t.Helper()
	client, err := redisstore.NewClient(c.Addrs(), 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	st = newStore(t, client, opts)
	masters, err := c.Masters()
	require.NoError(t, err)
	rep, err = c.ReplicaOf(masters[1])
	require.NoError(t, err)
	// READONLY: a cluster replica answers reads of its master's slots
	// (and MOVED for the others).
	rc := redis.NewClient(&redis.Options{Addr: rep.Addr(), OnConnect: func(ctx context.Context, cn *redis.Conn) error {
		return cn.ReadOnly(ctx).Err()
	}})
	t.Cleanup(func() { rc.Close() })
	rst, err = redisstore.New(rc, redisstore.Options{})
	require.NoError(t, err)
	owns = func(ctx context.Context, key string) (bool, error) {
		err := rc.Exists(ctx, key).Err()
		if err != nil && strings.HasPrefix(err.Error(), "MOVED ") {
			return false, nil
		}
		return err == nil, err
	}
	return st, rep, rst, owns
}

// failoverRecord is what the controller saw of one failover, and what the
// report made of it.
type failoverRecord struct {
	// from opened the replication window; synced: the replica had caught
	// up with the master's offset sampled after from; killed: the master
	// was dead; snapped: the replica read; promoted: the promotion seen,
	// which closed the window.
	from, synced, killed, snapped, promoted time.Time
	snap                                    map[*sess]*sessSnap // the sessions on the replica's slots
	unknown                                 int                 // of those, the ones it could not answer for
	err                                     error

	// The report's counts, and the first write on the replica's sessions
	// acknowledged after the kill (by the promoted replica).
	ackedInWindow, ackedKept, refused, refusedLanded, lostSessions int
	servedAgain                                                    time.Time

	back bool // under the harness's mu: a write on the replica's sessions was acknowledged after the kill
}

// sessSnap is a session as the replica held it right after the kill.
type sessSnap struct {
	missing bool
	values  map[string]string
}

// failDown runs fault k's failover down step: it opens a replication
// window, waits until the replica has every write acknowledged before the
// window opened (a write answered before from was on the master before the
// sample of its offset), kills the master, and reads every tracked session
// from the replica, which, with its master dead, holds what the promotion
// will start from. Writes acknowledged between from and the promotion may
// be lost: what asynchronous replication loses by design.
func (h *harness) failDown(k int) error {
	f := h.faults[k]
	rec := &failoverRecord{}
	h.failovers[k] = rec
	rec.from = h.openWindow()
	if err := f.replica.sync(); err != nil {
		return err
	}
	rec.synced = time.Now()
	if err := f.down(); err != nil {
		return err
	}
	rec.killed = time.Now()
	rec.snap, rec.unknown, rec.err = h.snapshot(f.replica)
	rec.snapped = time.Now()
	h.mu.Lock()
	h.awaiting = rec
	h.mu.Unlock()
	return nil
}

// servedAgain reports whether fault k has no replica, or a write on the
// sessions its replica took over was acknowledged after the kill.
func (h *harness) servedAgain(k int) bool {
	rec := h.failovers[k]
	if rec == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return rec.back
}

// failUp waits for the promotion and closes the replication window.
func (h *harness) failUp(k int) error {
	err := h.faults[k].up()
	h.failovers[k].promoted = h.closeWindow()
	return err
}

// snapshot reads every tracked session from the replica, through the same
// application on a manager of its own (reads only: nothing is touched or
// written), and checks that the replica was still a replica when it was
// done. A session whose key is on another node (in a cluster) is left out.
func (h *harness) snapshot(r *replica) (map[*sess]*sessSnap, int, error) {
	m, err := core.New(core.Config{Store: r.store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, 0, err
	}
	defer m.Close()
	handler := sessionhttp.New(m)(app())
	h.mu.Lock()
	sessions := slices.Clone(h.tracked)
	h.mu.Unlock()
	snap, unknown := map[*sess]*sessSnap{}, 0
	for _, s := range sessions {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if r.owns != nil {
			owned, err := r.owns(ctx, redisstore.Options{}.SessionKey(storeID(s.token)))
			if err != nil || !owned {
				cancel()
				if err != nil {
					unknown++
				}
				continue
			}
		}
		req := httptest.NewRequestWithContext(ctx, "GET", "/all", nil)
		req.AddCookie(&http.Cookie{Name: h.cookie, Value: s.token})
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		cancel()
		switch {
		case rec.Code != http.StatusOK:
			unknown++
		case rec.Header().Get("Soak-New") == "true":
			snap[s] = &sessSnap{missing: true}
		default:
			var all map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &all); err != nil {
				return nil, 0, fmt.Errorf("snapshot of %s: %w", s.label, err)
			}
			snap[s] = &sessSnap{values: all}
		}
	}
	role, err := r.role()
	if err == nil && role != "slave" {
		err = fmt.Errorf("the replica was promoted (role %s) before its snapshot was done", role)
	}
	return snap, unknown, err
}

// checkFailovers holds the promoted replica's state, as snapshot read it,
// to the log of writes, and reports each failover: every write
// acknowledged before the replication window must be on the replica; of
// those acknowledged in the window, it counts the kept and the lost; of
// those in flight at the kill and refused (503), those that had landed.
func (h *harness) checkFailovers(t *testing.T) {
	t.Helper()
	if !h.lossy {
		return
	}
	type slotID struct {
		s   *sess
		key string
	}
	bySlot := map[slotID][]writeRec{}
	for _, w := range h.writes {
		id := slotID{w.sess, w.key}
		bySlot[id] = append(bySlot[id], w)
	}
	for id := range bySlot {
		slices.SortFunc(bySlot[id], func(a, b writeRec) int { return int(a.st.seq - b.st.seq) })
	}
	for k, rec := range h.failovers {
		if rec == nil {
			continue
		}
		name := h.faults[k].name
		if rec.err != nil {
			h.violate("harness", "%s: %v", name, rec.err)
			continue
		}
		type line struct {
			start time.Time
			text  string
		}
		var lines []line
		for s, sn := range rec.snap {
			if sn.missing {
				if s.seeded || s.created.Before(rec.from) {
					h.violate("lost write", "%s: session %s, created before the replication window, is not on the promoted replica", name, s.label)
				}
				rec.lostSessions++
			} else if s.seeded && sn.values["seed"] != s.label {
				h.violate("lost write", "%s: session %s: the promoted replica holds seed %q", name, s.label, sn.values["seed"])
			}
			for _, sl := range s.slots {
				writes := bySlot[slotID{s, sl.key}]
				v, present := "", false
				if !sn.missing {
					v, present = sn.values[sl.key]
				}
				kept := func(w writeRec) bool { return !sn.missing && atOrAfter(v, present, w, writes, rec.killed) }
				var last *writeRec
				for i, w := range writes {
					if w.code == http.StatusOK && w.end.Before(rec.from) {
						last = &writes[i]
					}
				}
				if last != nil && !kept(*last) {
					h.violate("lost write", "%s: session %s key %s: the promoted replica holds %q (present %v), "+
						"but %v was acknowledged before the replication window", name, s.label, sl.key, v, present, last.st)
				}
				for _, w := range writes {
					if w.code == http.StatusOK && w.start.After(rec.killed) && (rec.servedAgain.IsZero() || w.end.Before(rec.servedAgain)) {
						rec.servedAgain = w.end
					}
					if w.end.Before(rec.from) || w.start.After(rec.promoted) {
						continue
					}
					var outcome string
					switch {
					// Answered before the snapshot was done, when the
					// replica was still a replica: by the old master.
					case w.code == http.StatusOK && !w.end.After(rec.snapped):
						rec.ackedInWindow++
						outcome = "acknowledged in the window, LOST with the master"
						if kept(w) {
							rec.ackedKept++
							outcome = "acknowledged, kept"
						}
					case w.code == http.StatusOK:
						continue // acknowledged by the promoted replica, which the ledger holds it to
					case w.start.After(rec.killed):
						continue // sent to a dead master
					default:
						rec.refused++
						outcome = "refused, had not landed"
						if kept(w) {
							rec.refusedLanded++
							outcome = "refused, had landed (kept)"
						}
					}
					op := "PUT"
					if w.st.absent {
						op = "DELETE"
					}
					lines = append(lines, line{w.start, fmt.Sprintf("%+9.2fms %+9.2fms  %-9s %-6s #%-5d %3d  %s",
						ms(w.start.Sub(rec.killed)), ms(w.end.Sub(rec.killed)), s.label+"/"+sl.key, op, w.st.seq, w.code, outcome)})
				}
			}
		}
		slices.SortFunc(lines, func(a, b line) int { return a.start.Compare(b.start) })
		t.Logf("%s: replica caught up %v after the window opened, master killed %v later, replica read in %v (%d sessions on it), promotion seen %v after the kill",
			name, rec.synced.Sub(rec.from).Round(time.Microsecond), rec.killed.Sub(rec.synced).Round(time.Microsecond),
			rec.snapped.Sub(rec.killed).Round(time.Millisecond), len(rec.snap), rec.promoted.Sub(rec.killed).Round(time.Millisecond))
		if rec.servedAgain.IsZero() {
			h.violate("harness", "%s: no write on the failed-over sessions was acknowledged after the kill", name)
		} else {
			t.Logf("%s: the first write on those sessions acknowledged after the kill: %v after it, %v after the promotion was seen",
				name, rec.servedAgain.Sub(rec.killed).Round(time.Millisecond), rec.servedAgain.Sub(rec.promoted).Round(time.Millisecond))
		}
		t.Logf("%s: writes acknowledged in the replication window: %d, kept %d, lost %d; writes in flight at the kill and refused (503): %d, %d of them had landed and were kept; "+
			"sessions created in the window and lost: %d; acknowledged writes a later read found lost: %d",
			name, rec.ackedInWindow, rec.ackedKept, rec.ackedInWindow-rec.ackedKept, rec.refused, rec.refusedLanded, rec.lostSessions, h.seenLost.Load())
		// The last ones before the kill, where losses would be.
		const maxLines = 60
		t.Logf("%s: the writes acknowledged in the window or in flight at the kill (start, end relative to the kill), the last %d:", name, maxLines)
		if len(lines) > maxLines {
			t.Logf("  … %d earlier ones", len(lines)-maxLines)
			lines = lines[len(lines)-maxLines:]
		}
		for _, l := range lines {
			t.Logf("  %s", l.text)
		}
	}
}

// storeID is the store ID of a session token, as the manager derives it:
// the hex SHA-256 of the token.
func storeID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// atOrAfter reports whether a key the replica holds as v (present says
// whether it holds it at all) is in the state after w or a later write of
// the same key (writes, by write counter; a later delete counts when it
// was sent before the kill).
func atOrAfter(v string, present bool, w writeRec, writes []writeRec, killed time.Time) bool {
	if present {
		parts := strings.Split(v, "/")
		seq, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
		if err != nil {
			return false
		}
		if w.st.absent {
			return seq > w.st.seq
		}
		return seq >= w.st.seq
	}
	if w.st.absent {
		return true
	}
	for _, d := range writes {
		if d.st.absent && d.st.seq > w.st.seq && d.start.Before(killed) {
			return true
		}
	}
	return false
}

// TestLedgerReplicationWindow: the ledger's rules with a store that fails
// over to an asynchronous replica, whose replication window here is from
// 10 to 20 (ms after base). A write acknowledged in it may be lost, so a
// read after it may go back to an older state; one acknowledged outside
// it may not; a read outside the window is durable, so nothing it did not
// see may come back later.
func TestLedgerReplicationWindow(t *testing.T) {
	base := time.Now()
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	val := func(seq int64) string { return fmt.Sprintf("s0/k00/%d", seq) }
	put := func(seq int64) *state { return &state{seq: seq, value: val(seq)} }
	del := func(seq int64) *state { return &state{seq: seq, absent: true} }
	const absent = "-"
	type step struct {
		write *state
		code  int
		read  string
		legal bool
		at    int // ms after base: the answer's end
	}
	w := func(st *state, code, ms int) step { return step{write: st, code: code, at: ms} }
	r := func(v string, legal bool, ms int) step { return step{read: v, legal: legal, at: ms} }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"acknowledged before the window, lost", []step{w(put(1), 200, 5), r(absent, false, 25)}},
		{"acknowledged before the window, then an older value", []step{w(put(1), 200, 2), w(put(2), 200, 5), r(val(1), false, 25)}},
		{"acknowledged in the window, lost", []step{w(put(1), 200, 5), w(put(2), 200, 15), r(val(1), true, 25)}},
		{"lost in the window, never back", []step{w(put(1), 200, 5), w(put(2), 200, 15), r(val(1), true, 25), r(val(2), false, 26)}},
		{"acknowledged in the window, kept", []step{w(put(1), 200, 5), w(put(2), 200, 15), r(val(2), true, 25), r(val(1), false, 26)}},
		{"acknowledged after the window", []step{w(put(1), 200, 15), w(put(2), 200, 25), r(val(1), false, 26)}},
		{"a read in the window proves nothing", []step{w(put(1), 200, 5), w(put(2), 200, 12), r(val(2), true, 13), r(val(1), true, 25)}},
		{"a read before the window is durable", []step{w(put(1), 200, 2), w(put(2), 503, 4), r(val(2), true, 5), r(val(1), false, 25)}},
		{"a 503 in the window, landed", []step{w(put(1), 200, 5), w(put(2), 503, 15), r(val(2), true, 25)}},
		{"a 503 in the window, not landed", []step{w(put(1), 200, 5), w(put(2), 503, 15), r(val(1), true, 25)}},
		{"a delete in the window, lost", []step{w(put(1), 200, 5), w(del(2), 200, 15), r(val(1), true, 25), r(absent, false, 26)}},
		{"a value never written", []step{w(put(1), 200, 15), r(val(9), false, 25)}},
		{"a later delete explains absent", []step{w(del(1), 200, 5), w(put(2), 200, 12), w(del(3), 503, 14), r(absent, true, 25), r(val(2), false, 26)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{violations: map[string][]string{}, vcount: map[string]int{}, lossy: true,
				windows: []window{{from: at(10), to: at(20)}}}
			sl := &slot{s: &sess{label: "s0"}, key: "k00", cands: []state{{absent: true}}}
			for i, st := range tc.steps {
				if st.write != nil {
					h.settle(sl, *st.write, &answer{code: st.code, start: at(st.at - 1), end: at(st.at)})
					continue
				}
				before := h.violationCount("lost write")
				h.observe(sl, st.read, st.read != absent, "test", at(st.at))
				legal := h.violationCount("lost write") == before
				assert.Equal(t, st.legal, legal, "step %d, read %s at %d: legal", i, st.read, st.at)
			}
		})
	}
}

// TestFailoverReport: checkFailovers holds the promoted replica's copy to
// the log of writes. Write 1 was acknowledged before the replication
// window opened, write 2 in it, write 3 was refused while in flight at
// the kill; each case is what the replica might hold.
func TestFailoverReport(t *testing.T) {
	base := time.Now()
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name                string
		held                map[string]string // the replica's copy; nil: the session is missing
		lost                bool              // a lost-write violation
		kept, refusedLanded int
	}{
		{"everything", map[string]string{"seed": "s0", "k00": "s0/k00/3"}, false, 1, 1},
		{"the window's write", map[string]string{"seed": "s0", "k00": "s0/k00/2"}, false, 1, 0},
		{"the window's write lost", map[string]string{"seed": "s0", "k00": "s0/k00/1"}, false, 0, 0},
		{"a write from before the window lost", map[string]string{"seed": "s0"}, true, 0, 0},
		{"the seed lost", map[string]string{"k00": "s0/k00/2"}, true, 1, 0},
		{"the session lost", nil, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sess{label: "s0", seeded: true}
			sl := &slot{s: s, key: "k00"}
			s.slots = []*slot{sl}
			w := func(seq int64, code, start, end int) writeRec {
				return writeRec{sess: s, key: "k00", st: state{seq: seq, value: fmt.Sprintf("s0/k00/%d", seq)}, code: code, start: at(start), end: at(end)}
			}
			h := &harness{violations: map[string][]string{}, vcount: map[string]int{}, lossy: true,
				faults: []fault{{name: "failover"}},
				writes: []writeRec{w(1, 200, 0, 5), w(2, 200, 12, 15), w(3, 503, 18, 40)}}
			snap := &sessSnap{missing: tc.held == nil, values: tc.held}
			rec := &failoverRecord{from: at(10), synced: at(11), killed: at(20), snapped: at(25), promoted: at(30),
				snap: map[*sess]*sessSnap{s: snap}}
			h.failovers = []*failoverRecord{rec}
			h.checkFailovers(t)
			assert.Equal(t, tc.lost, h.violationCount("lost write") > 0, "a lost-write violation")
			assert.Equal(t, 1, rec.ackedInWindow)
			assert.Equal(t, tc.kept, rec.ackedKept, "kept")
			assert.Equal(t, 1, rec.refused)
			assert.Equal(t, tc.refusedLanded, rec.refusedLanded, "refused, landed")
		})
	}
}
