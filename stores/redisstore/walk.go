package redisstore

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
)

var _ store.Walker = (*Store)(nil)

// walkBatch is the COUNT of each SCAN of a walk: about how many keys one
// step of it looks at, and so the most session IDs and metadata it holds
// at once (SCAN may return a few more than COUNT, never many).
const walkBatch = 500

// Walk calls fn with every session live at now (by its stored deadline,
// as ListUser), metadata only, never values, in no particular order. A
// zero now means time.Now().
//
// It SCANs (MATCH, TYPE hash, COUNT walkBatch) every server that holds
// keys, one after the other: each master of a Redis Cluster
// (ClusterClient.ForEachMaster, which only lists them here: fn is never
// called from two goroutines), each shard of a Ring, else the one server
// behind the client (a standalone server, a Sentinel-managed master). The
// pattern is the prefix, its glob characters escaped, followed by exactly
// 64 hex digits: the shape of a session key only, so neither the user
// index keys (Prefix + "u:{...}") nor the keys of a store with another
// prefix are ever read. For each batch of keys one pipeline of HMGET
// reads their metadata fields, the fields ListUser reads. Memory is
// bounded by one batch, whatever the number of sessions.
//
// What is not a session is skipped, not reported: forwarding entries,
// markers, tombstones, sessions past their stored deadline at now, keys
// of another type, and hashes under a session key whose metadata does not
// decode (a corrupt record, or data this package did not write). A walk
// goes over a whole keyspace, which may hold data of others under an
// overlapping prefix or a record broken by hand, and must not be stopped
// by it; Load, Update and ListUser still report such a record (ErrCorrupt)
// to whoever uses it.
//
// SCAN returns every key present for the whole scan at least once, and
// may return one twice (while Redis resizes its table), so a session may
// be shown twice. A failover during the walk (Sentinel), or a slot
// migrating between masters (Cluster resharding), can make it miss or
// repeat sessions: SCAN's cursor belongs to one server. The walk stops at
// fn's first error, which it returns as it is, and when ctx ends (checked
// before every call of fn and every round trip); other errors are
// failures of the store, wrapped ("redisstore: walk: ...").
func (s *Store) Walk(ctx context.Context, now time.Time, fn func(store.Entry) error) error {
	ctx, err := begin(ctx)
	if err != nil {
		return err
	}
	now = nowOr(now)
	servers, err := s.servers(ctx)
	if err != nil {
		return failed("walk", err)
	}
	match := sessionPattern(s.opts.prefix())
	for _, srv := range servers {
		if err := s.walkServer(ctx, srv, match, now, fn); err != nil {
			return err
		}
	}
	return nil
}

// scanner is a client of one server, or of whichever server a client
// sends a keyless command to.
type scanner interface {
	ScanType(ctx context.Context, cursor uint64, match string, count int64, keyType string) *redis.ScanCmd
}

// servers lists clients of the servers that together hold every key: each
// master of a cluster, each live shard of a ring, else the client itself.
// go-redis calls ForEachMaster's function concurrently; it only collects.
func (s *Store) servers(ctx context.Context) ([]scanner, error) {
	var each func(context.Context, func(context.Context, *redis.Client) error) error
	switch c := s.c.(type) {
	case interface {
		ForEachMaster(context.Context, func(context.Context, *redis.Client) error) error
	}:
		each = c.ForEachMaster
	case interface {
		ForEachShard(context.Context, func(context.Context, *redis.Client) error) error
	}:
		each = c.ForEachShard
	default:
		return []scanner{s.c}, nil
	}
	var mu sync.Mutex
	var out []scanner
	err := each(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// walkServer walks the keyspace of one server.
func (s *Store) walkServer(ctx context.Context, srv scanner, match string, now time.Time, fn func(store.Entry) error) error {
	var cursor uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		keys, next, err := srv.ScanType(ctx, cursor, match, walkBatch, "hash").Result()
		if err != nil {
			return failed("walk", err)
		}
		if len(keys) > 0 {
			if err := s.walkKeys(ctx, keys, now, fn); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// walkKeys reads the metadata of one batch of session keys, in one
// pipeline (which a cluster client sends to the node holding each key,
// following a slot that moved), and calls fn with each live session.
func (s *Store) walkKeys(ctx context.Context, keys []string, now time.Time, fn func(store.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pipe := s.c.Pipeline()
	cmds := make([]*redis.SliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HMGet(ctx, k, listFields...)
	}
	_, _ = pipe.Exec(ctx)
	prefix := s.opts.prefix()
	for i, cmd := range cmds {
		vals, err := cmd.Result()
		if err != nil {
			if wrongType(err) {
				continue // no longer a hash since the scan
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return failed("walk", err)
		}
		m, dl, ok, err := listedMeta(vals)
		if !ok || err != nil || millis(now) >= dl || !now.Before(m.ExpiresAt) {
			continue // not a session (see Walk), or no longer live
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(store.Entry{ID: strings.TrimPrefix(keys[i], prefix), Meta: m}); err != nil {
			return err
		}
	}
	return nil
}

// sessionPattern is the SCAN pattern of session keys under prefix: the
// prefix matched literally (Redis's glob characters *, ?, [, ] and the
// escape \ escaped), then 64 lowercase hex digits, the shape of an ID.
func sessionPattern(prefix string) string {
	var b strings.Builder
	b.Grow(2*len(prefix) + store.IDLength*len("[0-9a-f]"))
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	for range store.IDLength {
		b.WriteString("[0-9a-f]")
	}
	return b.String()
}
