package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// Load returns the record under id, or a forwarding entry (Successor set)
// during a Renew's grace period. It is one EVALSHA: the script reads the
// hash and, only when Now-LastSeen has reached opts.TouchAfter, sets
// LastSeen to Now and the key's TTL to the new deadline in the same step.
// A read inside the touch window writes nothing.
//
// A record past its deadline at opts.Now (by the idle timeout of this call
// or its absolute lifetime) is ErrExpired; one Redis has expired is
// ErrNotFound. A key holding anything this package does not write there is
// an error wrapping ErrCorrupt. A zero opts.Now means time.Now().
func (s *Store) Load(ctx context.Context, id string, opts store.LoadOptions) (*store.Record, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	now := nowOr(opts.Now)
	cmd := loadScript.Run(ctx, s.c, []string{s.key(id)},
		millis(now), opts.Idle.Milliseconds(), opts.TouchAfter.Milliseconds())
	status, rest, err := reply(cmd)
	if err != nil {
		return nil, failed("load", err)
	}
	switch status {
	case "NOTFOUND":
		return nil, store.ErrNotFound
	case "EXPIRED":
		return nil, store.ErrExpired
	case "FWD":
		succ := str(rest, 0)
		s.awaitSuccessor(ctx, succ, str(rest, 1))
		return &store.Record{Successor: succ}, nil
	case "CORRUPT":
		return nil, corrupt("load", rest)
	case "OK", "TOUCHED":
	default:
		return nil, unexpected("load", status)
	}
	rec, err := decodeRecord(arr(rest, 0))
	if err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	if status == "TOUCHED" {
		rec.Meta.LastSeen = time.UnixMilli(millis(now))
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
