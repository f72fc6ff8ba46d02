package pgstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

	// Now is the clock of the janitor, of Delete's and DeleteUser's
	// "live" answers, and of any call whose own Now is zero. Nil means
	// time.Now.
	Now func() time.Time
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
	return nil
}

// Tables are the qualified, quoted names of the store's two tables, as
// they appear in SQL: "schema"."prefixsessions" and
// "schema"."prefixvalues".
func (o Options) Tables() (sessions, values string) {
	return o.table("sessions"), o.table("values")
}

func (o Options) table(name string) string {
	return pgx.Identifier{o.schema(), o.prefix() + name}.Sanitize()
}
