package bench

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
)

// net/http: sessionkit's sessionhttp against alexedwards/scs/v2, both
// wrapping the same http.ServeMux.

func nethttpFloor(b *testing.B) *subject {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, setBody) })
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, valueWant) })
	mux.HandleFunc("POST /incr", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, floorNext()) })
	return &subject{std: mux}
}

func nethttpSessionkit(m *core.Manager) *subject {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		if err := sessionhttp.From(r).Put(valueKey, valueWant); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, setBody)
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		v, ok := core.Get[string](sessionhttp.From(r), valueKey)
		if !ok {
			w.WriteHeader(500)
			return
		}
		_, _ = io.WriteString(w, v)
	})
	mux.HandleFunc("POST /incr", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		n, _ := core.Get[int](s, counterKey)
		if err := s.Put(counterKey, n+1); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, strconv.Itoa(n+1))
	})
	return &subject{cookie: sessionkitCookie, std: sessionhttp.New(m)(mux)}
}

// scsSubject serves the routes through scs's LoadAndSave.
func scsSubject(sm *scs.SessionManager) *subject {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), valueKey, valueWant)
		_, _ = io.WriteString(w, setBody)
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		v, ok := sm.Get(r.Context(), valueKey).(string)
		if !ok {
			w.WriteHeader(500)
			return
		}
		_, _ = io.WriteString(w, v)
	})
	mux.HandleFunc("POST /incr", func(w http.ResponseWriter, r *http.Request) {
		n := sm.GetInt(r.Context(), counterKey)
		sm.Put(r.Context(), counterKey, n+1)
		_, _ = io.WriteString(w, strconv.Itoa(n+1))
	})
	return &subject{cookie: sm.Cookie.Name, std: sm.LoadAndSave(mux)}
}

// scsMemory is scs.New() as its README shows it: the default memstore
// (cleanup every minute), 24h lifetime, no idle timeout, gob codec.
func scsMemory(b *testing.B) *subject {
	st := memstore.New()
	b.Cleanup(st.StopCleanup)
	sm := scs.New()
	sm.Store = st
	return scsSubject(sm)
}

// scsMemoryIdle is scsMemory with a 30m idle timeout, sessionkit's default.
// scs then rewrites the session and its cookie on every request.
func scsMemoryIdle(b *testing.B) *subject {
	st := memstore.New()
	b.Cleanup(st.StopCleanup)
	sm := scs.New()
	sm.Store = st
	sm.IdleTimeout = 30 * time.Minute
	return scsSubject(sm)
}

var nethttpMemory = []factory{
	{"sessionkit", func(b *testing.B) *subject { return nethttpSessionkit(manager(b, nil)) }},
	{"scs", scsMemory},
	{"scs-idle", scsMemoryIdle},
}

// scsRedis is scs.New() on scs's redisstore, on a redigo pool as its
// README builds one (MaxIdle 10); no idle timeout.
func scsRedis(b *testing.B, srv *redisServer) *subject {
	srv.flush(b)
	pool, rt := srv.redigoPool(b, false)
	sm := scs.New()
	sm.Store = scsredis.New(pool)
	return withRoundTrips(scsSubject(sm), rt)
}

// scsRedisIdle is scsRedis with a 30m idle timeout.
func scsRedisIdle(b *testing.B, srv *redisServer) *subject {
	srv.flush(b)
	pool, rt := srv.redigoPool(b, false)
	sm := scs.New()
	sm.Store = scsredis.New(pool)
	sm.IdleTimeout = 30 * time.Minute
	return withRoundTrips(scsSubject(sm), rt)
}

// scsPostgresTable is the table scs's postgresstore README has one create.
const scsPostgresTable = `CREATE TABLE sessions (
	token TEXT PRIMARY KEY,
	data BYTEA NOT NULL,
	expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);`

// scsPostgres is scs.New() on scs's postgresstore.New(db) as its README
// builds it (the table above, cleanup every 5 minutes), db a database/sql
// handle on pgx's stdlib driver, which the README names as the
// alternative to lib/pq; idle is scs's IdleTimeout (0: none, scs's
// default).
func scsPostgres(b *testing.B, pg *pgServer, idle time.Duration) *subject {
	c := new(pgCount)
	db := pg.sqlDB(b, pg.srv.Schema(b), c)
	if _, err := db.Exec(scsPostgresTable); err != nil {
		b.Fatal(err)
	}
	st := postgresstore.New(db)
	b.Cleanup(st.StopCleanup)
	sm := scs.New()
	sm.Store = st
	sm.IdleTimeout = idle
	return withPg(scsSubject(sm), c)
}
