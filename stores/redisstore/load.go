package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// Load returns the record under id, or a forwarding entry (Successor set)
// during a Renew's grace period.
//
// A read is one plain HGETALL, checked here: no script runs and nothing is
// written. Only when Now-LastSeen has reached opts.TouchAfter does a second
// command, the touch script, move LastSeen and the key's TTL, after checking
// again that the record is still live. That costs a second round trip once
// per touch window per session (a quarter of the idle timeout by default),
// and saves every other read a script run, which costs Redis several times
// an HGETALL (the package doc has the figures).
//
// A record past its deadline at opts.Now (by its own idle timeout, where
// it has one, else the idle timeout of this call, or by its absolute
// lifetime) is ErrExpired; one Redis has expired is
// ErrNotFound. A key holding anything this package does not write there is
// an error wrapping ErrCorrupt. A zero opts.Now means time.Now().
func (s *Store) Load(ctx context.Context, id string, opts store.LoadOptions) (*store.Record, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	var t nearcache.Ticket
	var sent time.Time
	if s.cache != nil {
		if rec := cacheGet(s.cache, id, opts); rec != nil {
			return rec, nil
		}
		t, sent = s.cache.Ticket(id), time.Now()
	}
	key := s.key(id)
	h, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, failed("load", err)
	}
	if len(h) == 0 {
		return nil, store.ErrNotFound
	}
	now := millis(nowOr(opts.Now))
	if succ, ok := h[fieldNext]; ok {
		return s.forwarding(ctx, h, succ, now)
	}
	if _, ok := h[fieldGone]; ok {
		return nil, store.ErrNotFound
	}
	if _, ok := h[fieldRevoked]; ok {
		return nil, store.ErrNotFound
	}
	rec, dl, err := decodeHash(h)
	if err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	ls, exp := millis(rec.Meta.LastSeen), millis(rec.Meta.ExpiresAt)
	idle := idleFor(&rec.Meta, opts.Idle)
	if now >= dl || now >= min(ls+idle.Milliseconds(), exp) {
		return nil, store.ErrExpired
	}
	if d := now - ls; d > 0 && d >= opts.TouchAfter.Milliseconds() {
		// The touch changes the record: what the cache held of it is old.
		defer s.forget(id)
		return s.touch(ctx, key, id, rec, now, opts.Idle)
	}
	if s.cache != nil {
		cachePut(s.cache, t, sent, id, rec, dl)
	}
	return rec, nil
}

// forwarding answers a Load that found a Renew's forwarding entry.
func (s *Store) forwarding(ctx context.Context, h map[string]string, succ string, now int64) (*store.Record, error) {
	gend, err1 := strconv.ParseInt(h[fieldGraceEnd], 10, 64)
	at, err2 := strconv.ParseInt(h[fieldMovedAt], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("redisstore: load: %w: bad forwarding entry", ErrCorrupt)
	}
	if now >= gend {
		return nil, store.ErrNotFound
	}
	// The entry's age is measured on the server's clock, which wrote it
	// (another process's clock may disagree with ours). A failed TIME only
	// skips the wait.
	if srv, err := s.c.Time(ctx).Result(); err == nil {
		s.awaitSuccessor(ctx, succ, srv.UnixMilli()-at)
	}
	return &store.Record{Successor: succ}, nil
}

// touch moves a record's LastSeen to now and its deadline with it (by its
// own idle timeout where it has one, else idle), unless
// the record stopped being live since it was read (then the outcome is
// what a Load would now report) or a later request already moved it. A
// session bound to a user has its entry in the user's expiry index moved
// to the new deadline in the same round trip (never back, so a touch
// refused or beaten by a later one changes nothing there). That move is
// best effort: a read does not fail for it, and the session's next write
// moves the entry again.
func (s *Store) touch(ctx context.Context, key, id string, rec *store.Record, now int64, idle time.Duration) (*store.Record, error) {
	var touched *redis.Cmd
	if user := rec.Meta.UserID; user != "" {
		b := s.batch()
		touched = b.script(ctx, touchScript, []string{key}, now, idle.Milliseconds(), s.marker(id))
		// The script applies the record's own idle timeout; so does this,
		// from the record just read (a change of it since is a new login,
		// whose write moved the entry itself).
		own := idleFor(&rec.Meta, idle)
		s.moveDeadline(ctx, b, user, id, min(now+own.Milliseconds(), millis(rec.Meta.ExpiresAt)))
		b.exec(ctx)
	} else {
		// Alone, without a pipeline: the same round trip and fallback.
		touched = touchScript.Run(ctx, s.c, []string{key}, now, idle.Milliseconds(), s.marker(id))
	}
	status, rest, err := reply(touched)
	if err != nil {
		return nil, failed("load: touch", err)
	}
	switch status {
	case statusTouched:
		rec.Meta.LastSeen = time.UnixMilli(now)
	case statusLater:
	case statusNotFound:
		return nil, store.ErrNotFound
	case statusExpired:
		return nil, store.ErrExpired
	case statusFwd:
		// Renewed between the read and the touch.
		s.awaitSuccessor(ctx, str(rest, 0), ageOf(rest, 1))
		return &store.Record{Successor: str(rest, 0)}, nil
	case statusCorrupt:
		return nil, corrupt("load", rest)
	default:
		return nil, unexpected("load", status)
	}
	return rec, nil
}

// live reports whether id is a live record by the current time, for an
// Update with no change: it writes nothing.
func (s *Store) live(ctx context.Context, id string) error {
	vals, err := s.c.HMGet(ctx, s.key(id), fieldDeadline, fieldNext, fieldGone, fieldRevoked).Result()
	if err != nil {
		return failed("update", err)
	}
	if vals[1] != nil || vals[2] != nil || vals[3] != nil || vals[0] == nil {
		return store.ErrNotFound
	}
	raw, _ := vals[0].(string)
	dl, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return fmt.Errorf("redisstore: update: %w", errors.Join(ErrCorrupt, err))
	}
	if millis(time.Now()) >= dl {
		return store.ErrNotFound
	}
	return nil
}
