package pgstore

import (
	"context"
	_ "embed" // SchemaSQL
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaSQL is the store's schema as a plain SQL file (schema.sql in this
// package), for teams that migrate by hand or with a migration tool: the
// tables and indexes, and at the end the near cache's optional triggers
// (needed only where a process runs with Options.Cache), with the default
// names, in the schema "public" with the prefix "sessionkit_". Every
// statement is idempotent. For other names
// use Options.SchemaSQL, which rewrites these; New with CreateSchema runs
// exactly that.
//
//go:embed schema.sql
var SchemaSQL string

// cachePart starts the near cache's part of schema.sql, and
// defaultChannel is the channel it names (Options{}.Channel()).
const (
	cachePart      = "\n-- NEAR CACHE"
	defaultChannel = "sessionkit.f60064e0c39b9078"
)

// The default names as schema.sql spells them: a table is always
// qualified (public.sessionkit_x), an index never (sessionkit_x_idx).
var defaultName = regexp.MustCompile(`\b(public\.)?sessionkit_([a-z_]+)\b`)

// SchemaSQL returns SchemaSQL with the names these options give: the
// schema and prefix quoted as identifiers (and the near cache's channel,
// Channel), and a CREATE SCHEMA IF NOT EXISTS first when the schema is not
// "public". The near cache's part (its triggers, at the end of
// schema.sql) is in it only when o.Cache is set. It is what New runs when
// CreateSchema is set.
func (o Options) SchemaSQL() string {
	return o.schemaSQL(o.schema() != DefaultSchema)
}

// schemaSQL renders the schema, with or without the CREATE SCHEMA (which
// needs the CREATE privilege on the database even when the schema exists).
func (o Options) schemaSQL(createSchema bool) string {
	src := SchemaSQL
	if o.Cache == nil {
		src, _, _ = strings.Cut(src, cachePart)
	}
	src = strings.ReplaceAll(src, defaultChannel, o.Channel())
	body := defaultName.ReplaceAllStringFunc(src, func(m string) string {
		sub := defaultName.FindStringSubmatch(m)
		if sub[1] != "" {
			return o.table(sub[2])
		}
		return pgx.Identifier{o.prefix() + sub[2]}.Sanitize()
	})
	var b strings.Builder
	fmt.Fprintf(&b, "-- Rendered for schema %q, table prefix %q.\n", o.schema(), o.prefix())
	if createSchema {
		fmt.Fprintf(&b, "CREATE SCHEMA IF NOT EXISTS %s;\n\n", pgx.Identifier{o.schema()}.Sanitize())
	}
	b.WriteString(body)
	return b.String()
}

// createSchema runs the rendered schema in one transaction (a
// multi-statement simple query is one), under an advisory lock on the
// tables' names: CREATE ... IF NOT EXISTS alone is not safe against a
// concurrent CREATE of the same name, which fails on a unique index of the
// catalog instead of finding the object there.
func createSchema(ctx context.Context, pool *pgxpool.Pool, o Options) error {
	var exists bool
	err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", o.schema()).Scan(&exists)
	if err != nil {
		return &Error{Op: "create schema", Err: err}
	}
	sessions, _ := o.Tables()
	lock := fmt.Sprintf("SELECT pg_advisory_xact_lock(%d);\n", lockKey("schema", sessions))
	if _, err := pool.Exec(ctx, lock+o.schemaSQL(!exists)); err != nil {
		return &Error{Op: "create schema", Err: err}
	}
	return nil
}
