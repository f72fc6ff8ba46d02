package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

const (
	// markerTTL is how long a revocation tombstone, or the marker a Renew
	// without grace leaves, outlives its cause, and the least a claim's
	// copy of the record lives. It has to outlast a write still in flight
	// to the same key, and the retries go-redis makes of a round trip
	// whose reply it lost (MaxRetries times ReadTimeout: seconds).
	markerTTL = time.Minute
	// indexMargin absorbs clock skew between the application servers, whose
	// deadlines the user index records, and Redis, whose clock prunes it.
	indexMargin = time.Minute
	// settleWindow: a forwarding entry younger than this may name a
	// successor whose creation (Renew's second round trip) has not landed
	// yet; whoever is pointed at it waits, at most this long after the
	// renewal, for it to appear. Generous, because waiting costs only when
	// the successor is late, and never appears only if the renewing
	// process died in between.
	settleWindow = time.Second
	// maxForwardHops bounds how many forwarding entries and markers Delete
	// follows. A chain is as long as the renewals of one session within a
	// grace period (or a marker's minute), which is one or two; the bound
	// only guards against a cycle, which Renew never makes.
	maxForwardHops = 16
)

// Store is a store.Store and a store.Walker on Redis. It is safe for
// concurrent use by many goroutines and many processes. Without a cache
// it holds no resources of its own; with one (Options.Cache) it holds a
// tracking connection per node and a goroutine each, which Close
// releases. The client belongs to the caller, who closes it after the
// Store's last use (and after Close).
type Store struct {
	c    redis.UniversalClient
	opts Options

	// noRestore: the server refused a RESTORE (an ACL user without it,
	// a renamed command, a payload it does not read), so new sessions go
	// the way that needs no RESTORE (see createAnonymous).
	noRestore atomic.Bool
	// noListpack: the server refused a listpack payload (Redis before
	// 7.0), so RESTORE gets plain hashes.
	noListpack atomic.Bool

	cache    *nearcache.Cache // nil without Options.Cache
	tracking *tracking

	// tag and plainTag name this Store in the markers its scripts set
	// with every change of a session key (marks.go), cache or not, so
	// that other processes' caches can tell their own changes from it:
	// tag on the Updates that write through, the only changes its own
	// tracker passes over, plainTag on every other. marks is false for a
	// prefix a marker cannot share a slot under: nothing is marked, and
	// nothing is written through.
	tag, plainTag string
	marks         bool
}

var _ store.Store = (*Store)(nil)

// errNilRecord keeps a nil *store.Record from becoming a panic.
var errNilRecord = errors.New("redisstore: nil record")

// New returns a Store keeping sessions through client: a *redis.Client, a
// Sentinel failover client or a *redis.ClusterClient (see NewClient). It
// does not wait for the server, so it succeeds while Redis is down; every
// operation then fails until Redis is back.
//
// With Options.Cache, New validates it (see CacheOptions) and starts the
// near cache's tracking connections in the background: until every node
// is tracked, Loads read Redis (see the package doc). The client must
// then be a *redis.Client (standalone or Sentinel), a *redis.ClusterClient
// or a *redis.Ring, whose node options the tracking connections copy.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	s := &Store{c: client, opts: opts, tag: newTag(), plainTag: newTag()}
	s.marks = marksShareSlot(opts.prefix(), s.tag)
	if opts.Cache != nil {
		co, err := opts.Cache.withDefaults()
		if err != nil {
			return nil, err
		}
		s.opts.Cache = &co
		s.cache = nearcache.New(co.MaxBytes, co.MaxStaleness)
		s.tracking, err = newTracking(client, opts.prefix(), s.cache, s.tag, s.marks && !co.NoWriteThrough)
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Close stops the near cache: its tracking connections are closed and
// every Load reads Redis from then on. The Store keeps working. Without
// a cache, Close does nothing. It always returns nil, and may be called
// more than once.
func (s *Store) Close() error {
	if s.tracking != nil {
		s.tracking.close()
	}
	return nil
}

// CacheStats returns the near cache's counters and state; the zero
// CacheStats without a cache.
func (s *Store) CacheStats() CacheStats {
	if s.cache == nil {
		return CacheStats{}
	}
	st := cacheStats(s.cache)
	st.TrackingError = s.tracking.err()
	return st
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

func (s *Store) key(id string) string { return s.opts.SessionKey(id) }

// userKeys are a user's index keys, as the scripts take them.
func (s *Store) userKeys(user string) []string {
	index, expiry := s.opts.UserKeys(user)
	return []string{index, expiry, index + ":e"}
}

// moveDeadline queues, on b, the move of id's entry in user's expiry index
// to the deadline dl (Unix ms): forward only (GT), and only for an entry
// that is there (XX), so a late or stray call neither lowers a deadline
// nor brings back an entry that was dropped. A plain command, not a
// script: it rides along with the session's own write, in the same round
// trip.
func (s *Store) moveDeadline(ctx context.Context, b *batch, user, id string, dl int64) *redis.IntCmd {
	_, expiry := s.opts.UserKeys(user)
	return b.pipe.ZAddArgs(ctx, expiry, redis.ZAddArgs{XX: true, GT: true, Members: []redis.Z{{Score: float64(dl), Member: id}}})
}

// begin makes a nil context usable and reports one already done, so that
// no call on a cancelled context reaches Redis (or writes anything).
func begin(ctx context.Context) (context.Context, error) {
	if ctx == nil {
		return context.Background(), nil
	}
	return ctx, ctx.Err()
}

// nowOr returns t, or the current time when the caller left it zero.
func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// failed wraps a failure of the store itself for op. A WRONGTYPE reply means
// a session or index key holds something this package never writes there.
// (Redis 7 passes it on from a script as it is; Redis 6 wraps it in an ERR
// reply naming the script, hence Contains.)
func failed(op string, err error) error {
	if wrongType(err) {
		return fmt.Errorf("redisstore: %s: %w: %w", op, ErrCorrupt, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// wrongType reports a WRONGTYPE reply, passed on as it is or wrapped (see
// failed): a key of another type than the command's.
func wrongType(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.Contains(rerr.Error(), "WRONGTYPE")
}

// reply splits a script's reply into its status and the rest.
func reply(cmd *redis.Cmd) (string, []any, error) {
	v, err := cmd.Slice()
	if err != nil {
		return "", nil, err
	}
	if len(v) == 0 {
		return "", nil, errors.New("empty script reply")
	}
	status, ok := v[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("script reply status %T", v[0])
	}
	return status, v[1:], nil
}

// str returns rest[i] as a string, "" when absent.
func str(rest []any, i int) string {
	if i < len(rest) {
		if s, ok := rest[i].(string); ok {
			return s
		}
	}
	return ""
}

// arr returns rest[i] as an array, nil when absent.
func arr(rest []any, i int) []any {
	if i < len(rest) {
		if a, ok := rest[i].([]any); ok {
			return a
		}
	}
	return nil
}

// unexpected is the error for a status a script does not return: a
// different script under the same SHA, or a bug.
func unexpected(op, status string) error {
	return fmt.Errorf("redisstore: %s: unexpected script reply %q", op, status)
}

// corrupt is the error for a script's CORRUPT reply.
func corrupt(op string, rest []any) error {
	return fmt.Errorf("redisstore: %s: %w: bad %s", op, ErrCorrupt, str(rest, 0))
}

// batch queues commands for one round trip: a pipeline, whose scripts fall
// back to EVAL when the server does not have them cached (a restarted or
// failed-over server, SCRIPT FLUSH). A script refused with NOSCRIPT did
// nothing, so running it again on its own is safe.
type batch struct {
	c       redis.UniversalClient
	pipe    redis.Pipeliner
	scripts []queued
}

type queued struct {
	sc   *redis.Script
	keys []string
	args []any
	cmd  *redis.Cmd
}

func (s *Store) batch() *batch { return &batch{c: s.c, pipe: s.c.Pipeline()} }

func (b *batch) script(ctx context.Context, sc *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd := sc.EvalSha(ctx, b.pipe, keys, args...)
	b.scripts = append(b.scripts, queued{sc, keys, args, cmd})
	return cmd
}

// exec runs the batch. Errors stay on each command, where the caller reads
// them: in Redis Cluster some commands may fail while others succeed.
func (b *batch) exec(ctx context.Context) {
	_, _ = b.pipe.Exec(ctx)
	var retry []queued
	for _, q := range b.scripts {
		if redis.HasErrorPrefix(q.cmd.Err(), "NOSCRIPT") {
			retry = append(retry, q)
		}
	}
	if len(retry) == 0 {
		return
	}
	pipe := b.c.Pipeline()
	fresh := make([]*redis.Cmd, len(retry))
	for i, q := range retry {
		fresh[i] = q.sc.Eval(ctx, pipe, q.keys, q.args...)
	}
	_, _ = pipe.Exec(ctx)
	for i, q := range retry {
		q.cmd.SetVal(fresh[i].Val())
		q.cmd.SetErr(fresh[i].Err())
	}
}

// awaitSuccessor waits, briefly and only for a renewal that happened less
// than settleWindow ago (age, in server milliseconds), until the successor
// a forwarding entry names exists. Renew writes the forwarding entry and the
// successor in two round trips (they are in different cluster slots), and a
// request served the successor in between would otherwise find nothing and
// lose its session for nothing. Errors end the wait: the caller's next call
// reports them.
func (s *Store) awaitSuccessor(ctx context.Context, succ string, age int64) {
	until := time.Now().Add(settleWindow - time.Duration(age)*time.Millisecond)
	pause := 2 * time.Millisecond
	for time.Now().Before(until) {
		n, err := s.c.Exists(ctx, s.key(succ)).Result()
		if err != nil || n > 0 {
			return
		}
		t := time.NewTimer(min(pause, time.Until(until)))
		pause = min(2*pause, 50*time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// ageOf parses a script's reply of a forwarding entry's age in
// milliseconds; anything else reads as old enough not to wait for.
func ageOf(rest []any, i int) int64 {
	ms, err := strconv.ParseInt(str(rest, i), 10, 64)
	if err != nil {
		return settleWindow.Milliseconds()
	}
	return ms
}
