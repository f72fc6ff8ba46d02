package pgstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// The near cache (Options.Cache) is stores/internal/nearcache's, which
// redisstore shares: its package doc says how states, tickets, hits and
// the bound work. What is PostgreSQL's is here: how changes are announced
// and when the cache may serve. The times it compares are the store's:
// Unix microseconds, as PostgreSQL keeps them.
//
// Announcements. Triggers on both tables (schema.sql's near cache part)
// pg_notify the changed sessions' IDs on the store's channel, in the
// transaction that changes them, so every writer announces its changes,
// and each announcement is delivered after its change is committed.
//
// Listening. A connection of the listener's own (a pgx.Conn made from the
// pool's connection configuration, not a pool connection) runs LISTEN,
// checks that the five triggers exist and are enabled, and only then turns
// the cache on: a fill's ticket is taken after the LISTEN was committed,
// so every change after the read it fills from is announced to it. It
// then waits for notifications, and every heartbeat (a quarter of
// MaxStaleness, at most a second) proves the path end to end: it
// NOTIFYs its own channel with a heartbeat payload of its own, which it
// must receive by the end of that statement (PostgreSQL delivers a
// session's own notifications as its transaction commits), which must end
// within two heartbeats, and checks the triggers again. Any failure (the connection lost or silent, the
// heartbeat missing, a trigger dropped or disabled) turns the cache off,
// which drops every entry, since announcements may have been lost; it
// comes on again only once a new connection has LISTENed and checked
// again.
type listener struct {
	cache   *nearcache.Cache
	config  *pgx.ConnConfig
	channel string
	// triggers is the query that counts the enabled triggers (want).
	triggers string
	beat     time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	pid     atomic.Uint32 // the listening backend's, while up (tests)
	nonce   string        // tells this listener's heartbeats apart
	seq     uint64        // the last heartbeat's number (serve's goroutine)
	want    atomic.Pointer[string]
	got     atomic.Bool // the heartbeat want came back
	lastErr atomic.Pointer[error]
	swept   time.Time // serve's goroutine

	mu   sync.Mutex // guards conn for close
	conn *pgx.Conn

	// hold, for tests: while set, a new connection is not made, as if the
	// database refused it.
	hold atomic.Bool
}

// wantTriggers is how many triggers schema.sql's near cache part creates.
const wantTriggers = 5

// heartbeatFor is the heartbeat of a cache with MaxStaleness d.
func heartbeatFor(d time.Duration) time.Duration {
	return min(max(d/4, 5*time.Millisecond), time.Second)
}

func newListener(cache *nearcache.Cache, base *pgx.ConnConfig, o Options) *listener {
	l := &listener{
		cache:   cache,
		channel: o.Channel(),
		beat:    heartbeatFor(cache.MaxAge()),
		done:    make(chan struct{}),
		nonce:   rand.Text()[:12],
	}
	sessions, values := o.Tables()
	l.triggers = fmt.Sprintf(`SELECT count(*) FROM pg_trigger
WHERE tgrelid IN ('%s'::regclass, '%s'::regclass) AND tgenabled IN ('O', 'A')
AND tgname IN ('%[3]ssessions_notify_upd', '%[3]ssessions_notify_del', '%[3]svalues_notify_ins', '%[3]svalues_notify_upd', '%[3]svalues_notify_del')`,
		strings.ReplaceAll(sessions, "'", "''"), strings.ReplaceAll(values, "'", "''"), strings.ReplaceAll(o.prefix(), "'", "''"))
	cfg := base.Copy()
	// A wait that times out leaves the connection usable (a deadline,
	// not a cancel request, ends it).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	cfg.OnNotification = l.notified
	cfg.Tracer = nil // the application's tracer sees its queries, not these
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if name := cfg.RuntimeParams["application_name"]; name != "" {
		cfg.RuntimeParams["application_name"] = name + "-listen"
	} else {
		cfg.RuntimeParams["application_name"] = "sessionkit-listen"
	}
	l.config = cfg
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.run()
	return l
}

// heartbeatPrefix starts a heartbeat's payload, which no list of IDs does.
const heartbeatPrefix = "hb:"

// notified handles one notification, on the listening connection's
// goroutine (pgx calls it while a statement or a wait reads).
func (l *listener) notified(_ *pgconn.PgConn, n *pgconn.Notification) {
	if n.Channel != l.channel {
		return
	}
	p := n.Payload
	if strings.HasPrefix(p, heartbeatPrefix) {
		if w := l.want.Load(); w != nil && p == *w {
			l.got.Store(true)
		}
		return
	}
	if l.cache.DropInvalidations.Load() {
		return
	}
	for id := range strings.SplitSeq(p, ",") {
		if id == "*" {
			l.cache.Flush()
			continue
		}
		if id != "" {
			l.cache.Forget(id, true)
		}
	}
}

// run keeps a listening connection until close, dialling again after a
// failure: soon after a connection that worked, with a growing pause (to a
// second) after one that did not.
func (l *listener) run() {
	defer close(l.done)
	var redial nearcache.Redial
	for l.ctx.Err() == nil {
		worked, err := l.serve()
		l.pid.Store(0)
		if l.cache.Ready() {
			l.cache.SetReady(false)
		}
		if l.ctx.Err() != nil {
			return
		}
		err = fmt.Errorf("pgstore: near cache: %w", err)
		l.lastErr.Store(&err)
		if !redial.Wait(l.ctx, worked) {
			return
		}
	}
}

var (
	errTriggers  = errors.New("the notification triggers are missing or disabled (see Options.Cache)")
	errHeartbeat = errors.New("the heartbeat's notification did not arrive")
	errHeld      = errors.New("listening held (test)")
)

// serve connects, listens and turns the cache on, then waits for
// notifications and beats until something fails. It reports whether the
// cache was turned on, and why it ended.
func (l *listener) serve() (bool, error) {
	if l.hold.Load() {
		return false, errHeld
	}
	ctx, cancel := context.WithTimeout(l.ctx, max(5*time.Second, 4*l.beat))
	conn, err := pgx.ConnectConfig(ctx, l.config)
	cancel()
	if err != nil {
		return false, err
	}
	l.mu.Lock()
	if l.ctx.Err() != nil {
		l.mu.Unlock()
		_ = conn.Close(context.Background())
		return false, l.ctx.Err()
	}
	l.conn = conn
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.conn = nil
		l.mu.Unlock()
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if err := l.exec(conn, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return false, err
	}
	if err := l.check(conn); err != nil {
		return false, err
	}
	l.pid.Store(conn.PgConn().PID())
	l.cache.SetReady(true)
	l.lastErr.Store(nil)
	last := time.Now()
	for {
		wait := l.beat - time.Since(last)
		if wait > 0 {
			ctx, cancel := context.WithTimeout(l.ctx, wait)
			_, err := conn.WaitForNotification(ctx)
			cancel()
			if l.ctx.Err() != nil {
				return true, l.ctx.Err()
			}
			if err != nil && !pgconn.Timeout(err) {
				return true, err
			}
			continue
		}
		if err := l.check(conn); err != nil {
			return true, err
		}
		last = time.Now()
	}
}

// check beats (a NOTIFY of the channel, which must come back within the
// statement) and counts the triggers, in one statement.
func (l *listener) check(conn *pgx.Conn) error {
	l.seq++
	hb := fmt.Sprintf("%s%s:%d", heartbeatPrefix, l.nonce, l.seq)
	l.got.Store(false)
	l.want.Store(&hb)
	ctx, cancel := context.WithTimeout(l.ctx, l.checkTimeout())
	defer cancel()
	var count int
	err := conn.QueryRow(ctx, "SELECT pg_notify($1, $2), ("+l.triggers+")", l.channel, hb).Scan(nil, &count)
	if err != nil {
		return err
	}
	if count != wantTriggers {
		return errTriggers
	}
	if !l.got.Load() {
		return errHeartbeat
	}
	if every := max(min(time.Second, l.cache.MaxAge()), 50*time.Millisecond); time.Since(l.swept) >= every {
		l.cache.Sweep()
		l.swept = time.Now()
	}
	return nil
}

// checkTimeout bounds a heartbeat's statement: two heartbeats (a quarter
// of a second at least), so that a path gone silent is given up within
// three, under MaxStaleness.
func (l *listener) checkTimeout() time.Duration { return max(2*l.beat, 250*time.Millisecond) }

func (l *listener) exec(conn *pgx.Conn, sql string) error {
	ctx, cancel := context.WithTimeout(l.ctx, l.checkTimeout())
	defer cancel()
	_, err := conn.Exec(ctx, sql)
	return err
}

// close stops the listener and turns the cache off for good.
func (l *listener) close() {
	l.cancel()
	<-l.done
	l.cache.SetReady(false)
}

// err is why the cache last went off, nil while it is on.
func (l *listener) err() error {
	if l.cache.Ready() {
		return nil
	}
	if p := l.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// CacheStats are the near cache's counters since New, and its state now.
type CacheStats struct {
	// Listening: the listening connection has LISTENed, found the
	// triggers and passed its last heartbeat, so the cache serves. While
	// false, every Load reads the database (a bypass).
	Listening bool
	// ListenError is why the cache last went off or could not come on
	// (the database down, the triggers missing), nil while it is on.
	ListenError error
	// Hits: Loads served from the cache, with no query.
	Hits uint64
	// Misses: Loads that read the database while the cache was on: no
	// entry, one too old (MaxStaleness), past its deadline or due for a
	// touch.
	Misses uint64
	// Bypasses: Loads that read the database because the cache was off.
	Bypasses uint64
	// Invalidations: session IDs the notifications named.
	Invalidations uint64
	// Flushes: times the whole cache was dropped because a notification
	// could not name an ID ('*'). Losing the listening connection drops
	// it too, and is not counted here (see Listening).
	Flushes uint64
	// Evictions: entries dropped to keep within MaxBytes.
	Evictions uint64
	// Entries and Bytes: what the cache holds now (Bytes as estimated
	// against MaxBytes).
	Entries int
	Bytes   int64
}

// CacheStats returns the near cache's counters and state; the zero
// CacheStats without a cache.
func (s *Store) CacheStats() CacheStats {
	if s.cache == nil {
		return CacheStats{}
	}
	st := s.cache.Stats()
	return CacheStats{
		Listening:     st.Ready,
		ListenError:   s.listener.err(),
		Hits:          st.Hits,
		Misses:        st.Misses,
		Bypasses:      st.Bypasses,
		Invalidations: st.Invalidations,
		Flushes:       st.Flushes,
		Evictions:     st.Evictions,
		Entries:       st.Entries,
		Bytes:         st.Bytes,
	}
}

// forget drops the cached records of ids, once this process has written
// them (or tried to: whether a failed write landed is unknown), so that
// its next Load reads what it wrote.
func (s *Store) forget(ids ...string) {
	if s.cache == nil {
		return
	}
	for _, id := range ids {
		s.cache.Forget(id, false)
	}
}

// forgetDeleted forgets the rows a deleting statement removed.
func (s *Store) forgetDeleted(rows []deleted) {
	if s.cache == nil {
		return
	}
	for _, d := range rows {
		s.cache.Forget(d.id, false)
	}
}

// cacheGet is the cache's answer to a Load of id at now.
func (s *Store) cacheGet(id string, now time.Time, opts store.LoadOptions) *store.Record {
	return s.cache.Get(id, now.UnixMicro(), opts.Idle.Microseconds(), opts.TouchAfter.Microseconds())
}

// cachePut fills id's entry with rec, just read with stored deadline dl.
func (s *Store) cachePut(t nearcache.Ticket, born time.Time, id string, rec *store.Record, dl time.Time) {
	s.cache.Put(t, born, id, rec, nearcache.Times{
		LastSeen: rec.Meta.LastSeen.UnixMicro(), Expires: rec.Meta.ExpiresAt.UnixMicro(),
		Deadline: dl.UnixMicro(), Idle: rec.Meta.Idle.Microseconds(),
	})
}
