package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "session:"

// Options configures a Store.
type Options struct {
	// Prefix starts every key the store writes. Empty means DefaultPrefix.
	// Give each application sharing a Redis its own. In Redis Cluster, a
	// prefix containing a hash tag ("{...}") would put every key in one
	// slot, on one node; the store works, but nothing is spread out.
	Prefix string

	// Cache, when set, turns on the near cache: a process-local,
	// byte-bounded cache of session records that Redis itself invalidates
	// (server-assisted client-side caching), so that a Load of a session
	// read recently sends no command at all. Nil: no cache, every Load
	// reads Redis. See the package doc (Near cache) for what it
	// guarantees. A Store with a cache holds connections and goroutines of
	// its own: Close it before closing the client.
	Cache *CacheOptions
}

// Defaults of CacheOptions.
const (
	// DefaultCacheMaxBytes is CacheOptions.MaxBytes when zero.
	DefaultCacheMaxBytes = nearcache.DefaultMaxBytes
	// DefaultMaxStaleness is CacheOptions.MaxStaleness when zero.
	DefaultMaxStaleness = nearcache.DefaultMaxStaleness
	// MaxMaxStaleness is the largest CacheOptions.MaxStaleness New accepts:
	// a revoked session served for longer than a minute is no longer the
	// prompt revocation server-side sessions are for.
	MaxMaxStaleness = nearcache.MaxMaxStaleness
)

// CacheOptions configures the near cache (Options.Cache).
type CacheOptions struct {
	// MaxBytes bounds the memory the cached records take, as the cache
	// estimates it (the record's strings and values, plus a fixed
	// overhead per entry and per value: see the package doc). When a new
	// entry would take the cache past it, entries not read since the last
	// sweep go first. A record larger than a sixty-fourth of the bound (a
	// shard's share, for bounds of 16 MiB and more) is not cached. Zero
	// means DefaultCacheMaxBytes; negative is a configuration error.
	MaxBytes int64

	// MaxStaleness is the age beyond which a cached record is never
	// served, whatever the invalidations did: a write or revocation by
	// another process is seen within the invalidation delivery time
	// (well under a millisecond on loopback) while Redis's invalidations
	// arrive, and within MaxStaleness even when they are lost. Age counts
	// from before the read that filled the entry was sent. Zero means
	// DefaultMaxStaleness (1s); negative, or above MaxMaxStaleness (one
	// minute), is a configuration error.
	MaxStaleness time.Duration

	// NoWriteThrough stops the manager's Updates from leaving the record
	// they wrote in the cache (the package doc's "Writes through"): each
	// drops it instead, and the next Load reads Redis. Write-through
	// trusts that every change of a session key is marked by its writer,
	// as this package's are; set NoWriteThrough while other code changes
	// session keys (a version of this package from before markers,
	// during a rolling upgrade; commands sent by hand), whose changes are
	// otherwise seen within MaxStaleness, not the invalidation delivery
	// time, when they land in the same pass of Redis's event loop as this
	// process's own Update of that session.
	NoWriteThrough bool
}

// withDefaults validates o and fills in its defaults.
func (o CacheOptions) withDefaults() (CacheOptions, error) {
	var err error
	o.MaxBytes, o.MaxStaleness, err = nearcache.Validate("redisstore", o.MaxBytes, o.MaxStaleness)
	return o, err
}

func (o Options) prefix() string {
	if o.Prefix == "" {
		return DefaultPrefix
	}
	return o.Prefix
}

// SessionKey is the key of the hash holding the session with this ID (the
// hex SHA-256 of its token): Prefix + id.
func (o Options) SessionKey(id string) string { return o.prefix() + id }

// UserKeys returns two of the three keys of userID's index: index, a
// sorted set of session IDs by creation time, and expiry, its companion
// sorted set of the same IDs by deadline (the earlier of the idle and the
// absolute deadline). The third key is not returned: it is index + ":e",
// a set of the IDs being evicted under the per-user cap. The user ID
// appears only as its SHA-256, hex, inside a hash tag, so all three keys
// share a Redis Cluster slot and no application input ever becomes part
// of a key.
func (o Options) UserKeys(userID string) (index, expiry string) {
	sum := sha256.Sum256([]byte(userID))
	index = o.prefix() + "u:{" + hex.EncodeToString(sum[:]) + "}"
	return index, index + ":x"
}

// NewClient builds a go-redis client from addresses, as a command-line flag
// would give them: one address gives a standalone client, more than one a
// Redis Cluster client (which has only database 0). configure, when given,
// adjusts the options before the client is built: a password, TLS,
// timeouts, pool sizes.
//
// Two defaults differ from go-redis's, because a session store sits on
// every request's path; configure may set them back:
//
//   - ContextTimeoutEnabled: a request's context deadline bounds its wait
//     for a stalled Redis (go-redis otherwise waits out its 3s
//     ReadTimeout whatever the deadline).
//   - DialerRetries 1: with Redis unreachable, a call fails in about a
//     tenth of a second (go-redis still retries the command itself,
//     MaxRetries), instead of redialling for some two seconds and running
//     out the request's deadline. Failing before the deadline matters: the
//     caller then sees the store's error, not its own context's.
//   - A Cluster client follows a replica's promotion: it reloads its slot
//     map when a command fails because a node did not answer (refused,
//     reset, timed out, or the call's deadline ran out; at most every
//     200 ms) and every ClusterReloadInterval (go-redis waits 60 s).
//     go-redis reloads on MOVED replies, not when a master stops
//     answering, so after a replica's promotion its slots went to the
//     dead master for up to a minute (57 s measured). The periodic reload
//     costs one CLUSTER SLOTS a second per client. UniversalOptions cannot
//     set either, so configure cannot set them back; build a
//     redis.ClusterClient yourself for that.
//
// For Sentinel, set MasterName in configure; the addresses are then those
// of the sentinels and the client follows the elected master (this is
// redis.NewUniversalClient's rule; redis.NewFailoverClient builds the same
// client directly). Any redis.UniversalClient built another way works with
// New as well.
//
// Closing the client is the caller's job, after the Store's last use.
func NewClient(addrs []string, db int, configure ...func(*redis.UniversalOptions)) (redis.UniversalClient, error) {
	if len(addrs) == 0 {
		return nil, errors.New("redisstore: no Redis address")
	}
	for _, a := range addrs {
		if a == "" {
			return nil, errors.New("redisstore: empty Redis address")
		}
	}
	o := &redis.UniversalOptions{Addrs: addrs, DB: db, ContextTimeoutEnabled: true, DialerRetries: 1}
	for _, f := range configure {
		f(o)
	}
	return newClient(o)
}
