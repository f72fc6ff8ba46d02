package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// markerTTL is how long the marker a Renew without grace leaves under the
// old ID lives. It only has to outlast a revocation or logout in flight
// against that ID, which takes milliseconds.
const markerTTL = time.Minute

// attempts bounds how often an operation is run again after the server
// rolled it back for a deadlock or a serialization failure.
const attempts = 3

// Store is a store.Store on PostgreSQL, through a pgx connection pool. It
// is safe for concurrent use by many goroutines and many processes. The
// pool belongs to the caller, who closes it after the Store's last use;
// Close stops the Store's janitor and its near cache (Options.Cache),
// whose listening connection is its own, not the pool's.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	q    queries
	now  func() time.Time
	log  *slog.Logger

	// sessionsName and schemaName are the sessions table's unquoted names,
	// as the server reports them in errors.
	sessionsName, schemaName string

	closeOnce sync.Once
	stop      chan struct{} // nil without a janitor
	done      chan struct{}

	cache    *nearcache.Cache // nil without Options.Cache
	listener *listener
}

var _ store.Store = (*Store)(nil)

// errNilRecord keeps a nil *store.Record from becoming a panic.
var errNilRecord = errors.New("pgstore: nil record")

// New returns a Store keeping sessions in the tables opts names, through
// pool, and starts its janitor unless opts.JanitorInterval is negative.
// With opts.CreateSchema it first creates whatever of the schema is
// missing, and fails when it cannot (the database is down, the role may
// not create tables); without, it does not contact the database, so it
// succeeds while PostgreSQL is down and every operation fails until it is
// back. With opts.Cache it validates it (see CacheOptions), creates the
// cache's triggers too when CreateSchema is set, and starts the cache's
// listening connection in the background: until it has LISTENed and found
// the triggers, Loads read the database (see the package doc).
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Cache != nil {
		co, _ := opts.Cache.withDefaults() // validate checked it
		opts.Cache = &co
	}
	if opts.CreateSchema {
		if err := createSchema(ctx, pool, opts); err != nil {
			return nil, err
		}
	}
	sessions, values := opts.Tables()
	s := &Store{
		pool:         pool,
		opts:         opts,
		q:            buildQueries(sessions, values, lockKey("user", sessions)),
		now:          opts.Now,
		log:          opts.Logger,
		sessionsName: opts.prefix() + "sessions",
		schemaName:   opts.schema(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.Cache != nil {
		s.cache = nearcache.New(opts.Cache.MaxBytes, opts.Cache.MaxStaleness)
		s.listener = newListener(s.cache, pool.Config().ConnConfig, opts)
	}
	every := opts.JanitorInterval
	if every == 0 {
		every = DefaultJanitorInterval
	}
	if every > 0 {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.janitor(every)
	}
	return s, nil
}

// Close stops the janitor, waiting for a sweep in progress to end, and
// the near cache: its listening connection is closed and every Load reads
// the database from then on. It is idempotent and always returns nil; the
// store keeps working after it (only nothing deletes expired rows in the
// background any more, and nothing is cached). It does not close the
// pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.done
		}
		if s.listener != nil {
			s.listener.close()
		}
	})
	return nil
}

// begin makes a nil context usable and reports one already done, so that
// no call on a cancelled context reaches the database (or writes anything).
func begin(ctx context.Context, op string) (context.Context, error) {
	if ctx == nil {
		return context.Background(), nil
	}
	if err := ctx.Err(); err != nil {
		return ctx, &Error{Op: op, Err: err}
	}
	return ctx, nil
}

// clock is a call's time: t, or the store's clock when the caller left it
// zero, at the microsecond PostgreSQL keeps, so that a test made here and
// one made in SQL see the same instant.
func (s *Store) clock(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return t.Truncate(time.Microsecond)
}

// window returns the cutoff and the new deadline of a call at now with the
// idle timeout idle: a session is live while its last_seen is after
// cutoff, and a write extends it to until (the absolute deadline aside).
// An idle timeout of zero or less leaves nothing live, as Meta.Deadline
// has it. Both are the call's: where a row has an idle timeout of its own,
// the SQL (ownFrom) and row.classify put it in their place.
func window(now time.Time, idle time.Duration) (cutoff, until time.Time) {
	idle = max(idle, 0)
	return now.Add(-idle), now.Add(idle)
}

// untilFor is the idle deadline a write at from sets on a record with the
// metadata m: from plus m's own idle timeout, else plus the call's.
func untilFor(from time.Time, m *store.Meta, idle time.Duration) time.Time {
	return from.Add(m.IdleTimeout(max(idle, 0)))
}

// run sends b as one round trip (one implicit transaction) and hands the
// results to read, running it all again when the server rolled it back
// for a deadlock (retry); read must leave nothing half done on an error.
func (s *Store) run(ctx context.Context, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	return retry(func() error {
		br := s.pool.SendBatch(ctx, b)
		err := read(br)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// lockKey is the advisory lock on what kind and names identify: the first
// eight bytes of their SHA-256, so that unrelated applications' advisory
// locks are unlikely to collide with these (a collision only makes two
// lockers wait for each other).
func lockKey(kind string, names ...string) int64 {
	h := sha256.New()
	h.Write([]byte("sessionkit/pgstore\x00" + kind))
	for _, n := range names {
		h.Write([]byte{0})
		h.Write([]byte(n))
	}
	return int64(binary.BigEndian.Uint64(h.Sum(nil)))
}

// userParam is the user_id column's value: NULL for an anonymous session.
func userParam(user string) []byte {
	if user == "" {
		return nil
	}
	return []byte(user)
}

// text makes s storable in a text column, which holds only UTF-8 without
// NUL: the user agent and IP recorded at login are for display, and
// display (JSON, HTML) would replace invalid bytes anyway.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// loginArgs are the values of loginColumns for m: the session's own idle
// timeout in microseconds (NULL for none: the call's; one shorter than a
// microsecond, which the column cannot hold, goes as one rather than as
// none), whether it is remembered, its label (text, as the user agent),
// its metadata as a JSON object (NULL for none) and its binding (bytea,
// kept exactly as it is compared; NULL for none).
func loginArgs(m *store.Meta) []any {
	var idle, md, binding any
	if m.Idle > 0 {
		idle = max(m.Idle.Microseconds(), 1)
	}
	if len(m.Metadata) > 0 {
		md = metadataJSON(m.Metadata)
	}
	if m.Binding != "" {
		binding = []byte(m.Binding)
	}
	return []any{idle, m.Remembered, text(m.Label), md, binding}
}

// metadataJSON is the metadata column's value for md: a JSON object of
// strings. jsonb holds any Unicode string but U+0000, and JSON only valid
// UTF-8, so keys and values are made storable as text (text); two keys
// that differ only in such bytes become one.
func metadataJSON(md map[string]string) []byte {
	clean := make(map[string]string, len(md))
	for k, v := range md {
		clean[text(k)] = text(v)
	}
	b, _ := json.Marshal(clean) // a map of strings always marshals
	return b
}

// keyList is keys as a bytea[] parameter. Never nil: a NULL array would
// make "key <> ALL(...)" NULL, and so false, for every key.
func keyList(keys []string) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k)
	}
	return out
}

// valueLists is a values map as two parallel bytea[] parameters. An empty
// value is a value: a nil one goes as an empty bytea, not NULL.
func valueLists(m map[string][]byte) (keys, vals [][]byte) {
	keys, vals = make([][]byte, 0, len(m)), make([][]byte, 0, len(m))
	for k, v := range m {
		if v == nil {
			v = []byte{}
		}
		keys = append(keys, []byte(k))
		vals = append(vals, v)
	}
	return keys, vals
}

// setKeys is the keys of m.
func setKeys(m map[string][]byte) [][]byte {
	out := make([][]byte, 0, len(m))
	for k := range m {
		out = append(out, []byte(k))
	}
	return out
}
