package main

import (
	"strings"
)

// The suite's layout: Top/framework/library/Scenario (see bench/doc.go).
var (
	frameworks = []string{"nethttp", "gin", "echo", "echov5", "fiber", "fiberv3"}
	scenarios  = []string{"NewSession", "ReadOnly", "ReadWrite", "ReadOnlyParallel"}
	stores     = []string{"Memory", "Redis", "RedisCluster", "Postgres"}
)

// storeTitle heads each store's tables and chart panel.
var storeTitle = map[string]string{
	"Memory":       "Memory store",
	"Redis":        "Redis store",
	"RedisCluster": "Redis Cluster store (ReadOnly)",
	"Postgres":     "PostgreSQL store",
}

// rawFloor is the raw client benchmark a scenario of a networked store
// compares with (go-redis or pgx alone, the same number of round trips),
// and its label; "" for the memory store.
func rawFloor(top, sc string) (bench, label string) {
	switch top {
	case "Redis":
		switch sc {
		case "ReadWrite":
			return "RedisRaw/GETSET", "raw go-redis GET+SET"
		case "ReadOnlyParallel":
			return "RedisRaw/GETParallel", "raw go-redis GET, parallel"
		}
		return "RedisRaw/GET", "raw go-redis GET"
	case "Postgres":
		switch sc {
		case "ReadWrite":
			return "PostgresRaw/SELECTUPDATE", "raw pgx SELECT+UPDATE"
		case "ReadOnlyParallel":
			return "PostgresRaw/SELECTParallel", "raw pgx SELECT, parallel"
		}
		return "PostgresRaw/SELECT", "raw pgx SELECT"
	}
	return "", ""
}

const (
	ours   = "sessionkit"
	cached = "sessionkit-cache" // sessionkit with the store's near cache on (Redis, PostgreSQL)
	floor  = "none"
)

// isOurs reports whether lib is sessionkit in some configuration
// (sessionkit, sessionkit-cache): never a peer.
func isOurs(lib string) bool { return lib == ours || strings.HasPrefix(lib, ours+"-") }

var frameworkTitle = map[string]string{
	"nethttp": "net/http",
	"gin":     "Gin",
	"echo":    "Echo v4",
	"echov5":  "Echo v5",
	"fiber":   "Fiber v2",
	"fiberv3": "Fiber v3",
}

// clientSide reports whether lib keeps its values in the cookie: shown for
// reference, never the fastest peer.
func clientSide(lib string) bool { return strings.HasSuffix(lib, "-cookie") }

// libConfig says what each library label in the suite is, configuration
// included. Keep in step with the factories in bench/*_test.go.
var libConfig = map[string]string{
	"sessionkit":            "sessionkit with its defaults: `core.Config{}` (memory store, `redisstore` on Redis, or `pgstore` on PostgreSQL: `pgstore.NewPool`'s pgx v5 pool, default tables, its janitor off during the benchmarks; 30m idle timeout on, 24h lifetime, `Secure` `HttpOnly` `SameSite=Lax` `__Host-session` cookie) and a discarding logger",
	"sessionkit-cache":      "sessionkit as above with the store's near cache on at its defaults (64 MiB, `MaxStaleness` 1s), measured once it serves: on Redis `redisstore.Options{Cache: &redisstore.CacheOptions{}}` (Redis invalidates entries by client-side caching, `CLIENT TRACKING`, on connections of the store's own), on PostgreSQL `pgstore.Options{Cache: &pgstore.CacheOptions{}}` (LISTEN/NOTIFY on a connection of the store's own, fed by the triggers the cache installs, which every write then pays for); a cached read sends nothing to the server; on Redis a write leaves the record it wrote in the cache (write-through), on PostgreSQL it drops the entry so the next read goes to the server",
	"scs":                   "`alexedwards/scs/v2` v2.9.0, `scs.New()` as its README shows: default `memstore` (cleanup every minute), `redisstore` on a redigo pool, or `postgresstore.New(db)` (the table its README creates; `database/sql` on pgx v5's stdlib driver, cleanup every 5 minutes), gob codec, 24h lifetime, **no idle timeout** (scs's default)",
	"scs-idle":              "scs as above with `IdleTimeout = 30m` (sessionkit's default): scs then re-saves the session and re-sends its cookie on every request",
	"gin-sessions":          "`gin-contrib/sessions` v1.0.4, `sessions.Sessions(\"session\", store)` with `memstore.NewStore(key)` (server-side: `quasoft/memstore`, values gob-copied on every load and save), `redis.NewStore` (`boj/redistore`, redigo pool of 10) or `postgres.NewStore(db, key)` (`antonlindstrom/pgstore`, `database/sql` on pgx v5's stdlib driver), one 32-byte HMAC key, default options (Path /, MaxAge 30 days); handlers call `Save()`",
	"gin-sessions-cookie":   "`gin-contrib/sessions/cookie` `cookie.NewStore(key)`, the README's default: **client-side**, the gob-encoded values travel in the HMAC-signed cookie; for reference only",
	"echo-session":          "`labstack/echo-contrib/session` v0.17.4 (gorilla/sessions v1.4.0) with `quasoft/memstore` `NewMemStore(key)` (gorilla has no memory store of its own; this is the one gin-contrib wraps), `boj/redistore` on Redis (redigo pool of 10) or `antonlindstrom/pgstore` `NewPGStoreFromPool(db, key)` on PostgreSQL (the gorilla store gin-contrib's postgres wraps; `database/sql` on pgx v5's stdlib driver), one 32-byte HMAC key, default options; handlers call `Save(c.Request(), c.Response())`",
	"echo-session-cookie":   "echo-contrib/session with `sessions.NewCookieStore(key)`, the README's default: **client-side** (values in the signed cookie); for reference only",
	"fiber-session":         "Fiber v2.52 `middleware/session` `session.New()`: default in-memory storage, or `gofiber/storage/redis/v3` on Redis; gob-encoded values under a UUIDv4 key, 24h expiration, cookie `session_id`; no PostgreSQL run (`gofiber/storage/postgres` is not on the module proxy)",
	"echov5-session":        "`labstack/echo-contrib/v5/session` v5.0.1 (gorilla/sessions v1.4.0) on Echo v5, configured as echo-session: `quasoft/memstore`, `boj/redistore` or `antonlindstrom/pgstore`, one 32-byte HMAC key, default options; handlers call `Save(c.Request(), c.Response())`",
	"echov5-session-cookie": "echo-contrib/v5/session with `sessions.NewCookieStore(key)`: **client-side** (values in the signed cookie); for reference only",
	"fiberv3-session":       "Fiber v3.1 `middleware/session` as its docs use it, `app.Use(session.New())` and `session.FromContext(c)`: default in-memory storage, or `gofiber/storage/redis/v3` on Redis; values under a random key, 30m idle timeout (the middleware saves the session after every request), cookie `session_id`; no PostgreSQL run (`gofiber/storage/postgres` is not on the module proxy)",
	"none":                  "the framework alone: the same routes and responses, no session middleware",
}
