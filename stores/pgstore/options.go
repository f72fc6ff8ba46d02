package pgstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// Defaults for the zero Options.
const (
	DefaultSchema          = "public"
	DefaultTablePrefix     = "sessionkit_"
	DefaultJanitorInterval = time.Minute
	DefaultJanitorBatch    = 500
)

// maxIdentifier is PostgreSQL's longest name (NAMEDATALEN-1 bytes): a
// longer one would be cut short silently, and two cut names could clash.
const maxIdentifier = 63

// longestTableSuffix is the longest name the store puts after the prefix.
const longestTableSuffix = "sessions_deadline_idx"

// Options configures a Store. The zero value gives the defaults.
type Options struct {
	// Schema holds the store's tables. Empty means DefaultSchema
	// ("public"). New creates it, when CreateSchema is set and it does not
	// exist yet.
	Schema string

	// TablePrefix starts the name of each table and index the store uses:
	// prefix + "sessions" and prefix + "values". Empty means
	// DefaultTablePrefix ("sessionkit_"). Give each application sharing a
	// schema its own.
	TablePrefix string

	// CreateSchema makes New create the schema, tables and indexes that
	// are missing (the statements of Options.SchemaSQL, all idempotent),
	// under an advisory lock, so processes starting together do not race.
	// Without it, New does not contact the database: the tables must have
	// been created beforehand (SchemaSQL, by a migration tool).
	CreateSchema bool

	// JanitorInterval is how often the store's janitor deletes expired
	// rows. Zero means DefaultJanitorInterval (a minute); a negative value
	// runs no janitor in this process, for applications that run it in
	// only some of their processes (or call Sweep from a job of their own).
	// Expired rows are never returned either way; the janitor only gives
	// their space back.
	JanitorInterval time.Duration

	// JanitorBatch is how many rows one janitor statement deletes; a sweep
	// runs statements until no expired row is left. Small batches keep
	// each statement's locks short. Zero means DefaultJanitorBatch (500).
	JanitorBatch int

	// Logger gets the janitor's failures (a sweep with the database down);
	// the next sweep tries again. Nil means slog.Default().
	Logger *slog.Logger

	// Cache, when set, turns on the near cache: a process-local,
	// byte-bounded cache of session records that PostgreSQL invalidates
	// (LISTEN/NOTIFY, from triggers on the tables), so that a Load of a
	// session read recently sends no query at all. Nil: no cache, every
	// Load reads the database. See the package doc (Near cache) for what
	// it guarantees and what the triggers cost every writer. With
	// CreateSchema, New also creates the triggers; without, they must
	// have been created beforehand (Options.SchemaSQL with Cache set):
	// until they exist, the cache stays off. A Store with a cache holds a
	// connection of its own and a goroutine: Close it before closing the
	// pool.
	Cache *CacheOptions

	// Now is the clock of the janitor, of Delete's and DeleteUser's
	// "live" answers, and of any call whose own Now is zero. Nil means
	// time.Now.
	Now func() time.Time
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
	// overhead per entry and per value). When a new entry would take the
	// cache past it, entries not read since the last sweep go first. A
	// record larger than a sixty-fourth of the bound (a shard's share, for
	// bounds of 16 MiB and more) is not cached. Zero means
	// DefaultCacheMaxBytes; negative is a configuration error.
	MaxBytes int64

	// MaxStaleness is the age beyond which a cached record is never
	// served, whatever the notifications did: a write or revocation by
	// another process is seen within the notification delivery time
	// (a quarter of a millisecond at the median on loopback, see the
	// package doc) while the listening connection works, and within
	// MaxStaleness even when a notification is lost. Age counts from before the read that filled
	// the entry was sent. Zero means DefaultMaxStaleness (1s); negative,
	// or above MaxMaxStaleness (one minute), is a configuration error.
	MaxStaleness time.Duration
}

// withDefaults validates o and fills in its defaults.
func (o CacheOptions) withDefaults() (CacheOptions, error) {
	var err error
	o.MaxBytes, o.MaxStaleness, err = nearcache.Validate("pgstore", o.MaxBytes, o.MaxStaleness)
	return o, err
}

func (o Options) schema() string {
	if o.Schema == "" {
		return DefaultSchema
	}
	return o.Schema
}

func (o Options) prefix() string {
	if o.TablePrefix == "" {
		return DefaultTablePrefix
	}
	return o.TablePrefix
}

// validate refuses names PostgreSQL would cut short or cannot hold, and
// negative batch sizes.
func (o Options) validate() error {
	if s := o.schema(); len(s) > maxIdentifier || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("pgstore: schema name %q: at most %d bytes, no NUL", s, maxIdentifier)
	}
	if p := o.prefix(); len(p)+len(longestTableSuffix) > maxIdentifier || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("pgstore: table prefix %q: at most %d bytes, no NUL", p, maxIdentifier-len(longestTableSuffix))
	}
	if o.JanitorBatch < 0 {
		return errors.New("pgstore: negative JanitorBatch")
	}
	if o.Cache != nil {
		if _, err := o.Cache.withDefaults(); err != nil {
			return err
		}
	}
	return nil
}

// Tables are the qualified, quoted names of the store's two tables, as
// they appear in SQL: "schema"."prefixsessions" and
// "schema"."prefixvalues".
func (o Options) Tables() (sessions, values string) {
	return o.table("sessions"), o.table("values")
}

// Channel is the channel the near cache's triggers notify and its
// listening connection LISTENs on: "sessionkit." and 16 hex digits of a
// hash of the sessions table's qualified name, so that stores in other
// schemas or with other prefixes of one database keep apart.
func (o Options) Channel() string {
	sessions, _ := o.Tables()
	return fmt.Sprintf("sessionkit.%016x", uint64(lockKey("notify", sessions)))
}

func (o Options) table(name string) string {
	return pgx.Identifier{o.schema(), o.prefix() + name}.Sanitize()
}
