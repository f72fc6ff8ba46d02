package redisstore

import (
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// The near cache (Options.Cache) is stores/internal/nearcache's, which
// pgstore shares: decoded records, by ID, served by Load while the
// tracking connections (tracking.go) say Redis will tell of every change.
// Its package doc says how states, tickets, hits and the bound work; the
// ready state here is "every node's tracking connection is subscribed".
// The times it compares are Redis's: Unix milliseconds.

// cacheGet is the cache's answer to a Load of id with opts.
func cacheGet(c *nearcache.Cache, id string, opts store.LoadOptions) *store.Record {
	return c.Get(id, millis(nowOr(opts.Now)), opts.Idle.Milliseconds(), opts.TouchAfter.Milliseconds())
}

// cachePut fills id's entry with rec, just read with stored deadline dl.
func cachePut(c *nearcache.Cache, t nearcache.Ticket, born time.Time, id string, rec *store.Record, dl int64) {
	c.Put(t, born, id, rec, nearcache.Times{
		LastSeen: millis(rec.Meta.LastSeen), Expires: millis(rec.Meta.ExpiresAt),
		Deadline: dl, Idle: idleMillis(rec.Meta.Idle),
	})
}

// CacheStats are the near cache's counters since New, and its state now.
type CacheStats struct {
	// Tracking: every node's tracking connection is up, so the cache
	// serves. While false, every Load reads Redis (a bypass).
	Tracking bool
	// TrackingError is why a tracking connection last failed or could
	// not be set up (the node down, a user without the ACL permissions
	// the cache needs), nil once every node is tracked again.
	TrackingError error
	// Hits: Loads served from the cache, with no Redis command.
	Hits uint64
	// Misses: Loads that read Redis while the cache was on: no entry, one
	// too old (MaxStaleness), past its deadline or due for a touch.
	Misses uint64
	// Bypasses: Loads that read Redis because the cache was off (tracking
	// not established, or lost).
	Bypasses uint64
	// Invalidations: session keys Redis announced as changed.
	Invalidations uint64
	// Flushes: times the whole cache was dropped because of a flush in
	// Redis (FLUSHALL, FLUSHDB). Losing tracking drops it too, and is not
	// counted here (see Tracking).
	Flushes uint64
	// Evictions: entries dropped to keep within MaxBytes.
	Evictions uint64
	// Entries and Bytes: what the cache holds now (Bytes as estimated
	// against MaxBytes).
	Entries int
	Bytes   int64
}

func cacheStats(c *nearcache.Cache) CacheStats {
	s := c.Stats()
	return CacheStats{
		Tracking:      s.Ready,
		Hits:          s.Hits,
		Misses:        s.Misses,
		Bypasses:      s.Bypasses,
		Invalidations: s.Invalidations,
		Flushes:       s.Flushes,
		Evictions:     s.Evictions,
		Entries:       s.Entries,
		Bytes:         s.Bytes,
	}
}
