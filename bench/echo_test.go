package bench

import (
	"net/http"
	"strconv"
	"testing"

	gorillapg "github.com/antonlindstrom/pgstore"
	"github.com/boj/redistore"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo-contrib/session"
	"github.com/labstack/echo/v4"
	"github.com/quasoft/memstore"

	sessionecho "github.com/sessionkit/sessionkit/adapters/echo"
	"github.com/sessionkit/sessionkit/core"
)

// Echo: sessionkit's sessionecho against labstack/echo-contrib/session
// (gorilla/sessions), on echo.New() with no other middleware.

func echoFloor(b *testing.B) *subject {
	e := echo.New()
	e.POST("/set", func(c echo.Context) error { return c.String(http.StatusOK, setBody) })
	e.GET("/get", func(c echo.Context) error { return c.String(http.StatusOK, valueWant) })
	e.POST("/incr", func(c echo.Context) error { return c.String(http.StatusOK, floorNext()) })
	return &subject{std: e}
}

func echoSessionkit(m *core.Manager) *subject {
	e := echo.New()
	e.Use(sessionecho.New(m))
	e.POST("/set", func(c echo.Context) error {
		if err := sessionecho.From(c).Put(valueKey, valueWant); err != nil {
			return err
		}
		return c.String(http.StatusOK, setBody)
	})
	e.GET("/get", func(c echo.Context) error {
		v, ok := core.Get[string](sessionecho.From(c), valueKey)
		if !ok {
			return echo.ErrInternalServerError
		}
		return c.String(http.StatusOK, v)
	})
	e.POST("/incr", func(c echo.Context) error {
		s := sessionecho.From(c)
		n, _ := core.Get[int](s, counterKey)
		if err := s.Put(counterKey, n+1); err != nil {
			return err
		}
		return c.String(http.StatusOK, strconv.Itoa(n+1))
	})
	return &subject{cookie: sessionkitCookie, std: e}
}

// echoContribSubject serves the routes through session.Middleware(st) the
// way echo-contrib's README does: session.Get("session", c), Values,
// Save(c.Request(), c.Response()).
func echoContribSubject(st sessions.Store) *subject {
	e := echo.New()
	e.Use(session.Middleware(st))
	e.POST("/set", func(c echo.Context) error {
		s, err := session.Get("session", c)
		if err != nil {
			return err
		}
		s.Values[valueKey] = valueWant
		if err := s.Save(c.Request(), c.Response()); err != nil {
			return err
		}
		return c.String(http.StatusOK, setBody)
	})
	e.GET("/get", func(c echo.Context) error {
		s, err := session.Get("session", c)
		if err != nil {
			return err
		}
		v, ok := s.Values[valueKey].(string)
		if !ok {
			return echo.ErrInternalServerError
		}
		return c.String(http.StatusOK, v)
	})
	e.POST("/incr", func(c echo.Context) error {
		s, err := session.Get("session", c)
		if err != nil {
			return err
		}
		n, _ := s.Values[counterKey].(int)
		s.Values[counterKey] = n + 1
		if err := s.Save(c.Request(), c.Response()); err != nil {
			return err
		}
		return c.String(http.StatusOK, strconv.Itoa(n+1))
	})
	return &subject{cookie: "session", std: e}
}

var echoMemory = []factory{
	{"sessionkit", func(b *testing.B) *subject { return echoSessionkit(manager(b, nil)) }},
	// gorilla/sessions has no in-memory store of its own; quasoft/memstore
	// is the one gin-contrib/sessions/memstore wraps (server-side, values
	// copied through gob on every load and save, HMAC-signed session ID in
	// the cookie). Default options: Path /, MaxAge 30 days.
	{"echo-session", func(b *testing.B) *subject { return echoContribSubject(memstore.NewMemStore([]byte(authKey))) }},
	// sessions.NewCookieStore, echo-contrib's README default: NOT
	// server-side (values in the cookie, gob, HMAC-signed, not encrypted).
	{"echo-session-cookie", func(b *testing.B) *subject {
		s := echoContribSubject(sessions.NewCookieStore([]byte(authKey)))
		s.clientSide = true
		return s
	}},
}

// echoSessionRedis is echo-contrib/session on boj/redistore, the usual
// gorilla Redis store, on the pool redistore.NewRediStore(10, ...) builds
// (MaxIdle 10, a PING on every borrow), with its round trips counted.
func echoSessionRedis(b *testing.B, srv *redisServer) *subject {
	srv.flush(b)
	pool, rt := srv.redigoPool(b, true)
	st, err := redistore.NewRediStoreWithPool(pool, []byte(authKey))
	if err != nil {
		b.Fatal(err)
	}
	return withRoundTrips(echoContribSubject(st), rt)
}

// echoSessionPostgres is echo-contrib's session on antonlindstrom/pgstore, the
// gorilla/sessions PostgreSQL store (the one gin-contrib/sessions/postgres
// wraps): NewPGStoreFromPool(db, key), which creates its http_sessions
// table, db a database/sql handle on pgx's stdlib driver.
func echoSessionPostgres(b *testing.B, pg *pgServer) *subject {
	c := new(pgCount)
	db := pg.sqlDB(b, pg.srv.Schema(b), c)
	st, err := gorillapg.NewPGStoreFromPool(db, []byte(authKey))
	if err != nil {
		b.Fatal(err)
	}
	return withPg(echoContribSubject(st), c)
}
