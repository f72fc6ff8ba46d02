package bench

import (
	"net/http"
	"strconv"
	"testing"

	gorillapg "github.com/antonlindstrom/pgstore"
	"github.com/boj/redistore"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo-contrib/v5/session"
	"github.com/labstack/echo/v5"
	"github.com/quasoft/memstore"

	sessionechov5 "github.com/sessionkit/sessionkit/adapters/echov5"
	"github.com/sessionkit/sessionkit/core"
)

// Echo v5: sessionkit's sessionechov5 against echo-contrib/v5's session
// (gorilla/sessions), on echo.New() with no other middleware.

func echov5Floor(b *testing.B) *subject {
	e := echo.New()
	e.POST("/set", func(c *echo.Context) error { return c.String(http.StatusOK, setBody) })
	e.GET("/get", func(c *echo.Context) error { return c.String(http.StatusOK, valueWant) })
	e.POST("/incr", func(c *echo.Context) error { return c.String(http.StatusOK, floorNext()) })
	return &subject{std: e}
}

func echov5Sessionkit(m *core.Manager) *subject {
	e := echo.New()
	e.Use(sessionechov5.New(m))
	e.POST("/set", func(c *echo.Context) error {
		if err := sessionechov5.From(c).Put(valueKey, valueWant); err != nil {
			return err
		}
		return c.String(http.StatusOK, setBody)
	})
	e.GET("/get", func(c *echo.Context) error {
		v, ok := core.Get[string](sessionechov5.From(c), valueKey)
		if !ok {
			return echo.ErrInternalServerError
		}
		return c.String(http.StatusOK, v)
	})
	e.POST("/incr", func(c *echo.Context) error {
		s := sessionechov5.From(c)
		n, _ := core.Get[int](s, counterKey)
		if err := s.Put(counterKey, n+1); err != nil {
			return err
		}
		return c.String(http.StatusOK, strconv.Itoa(n+1))
	})
	return &subject{cookie: sessionkitCookie, std: e}
}

// echov5ContribSubject serves the routes through session.Middleware(st) as
// echo-contrib's session package is used: session.Get("session", c),
// Values, Save(c.Request(), c.Response()).
func echov5ContribSubject(st sessions.Store) *subject {
	e := echo.New()
	e.Use(session.Middleware(st))
	e.POST("/set", func(c *echo.Context) error {
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
	e.GET("/get", func(c *echo.Context) error {
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
	e.POST("/incr", func(c *echo.Context) error {
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

var echov5Memory = []factory{
	{"sessionkit", func(b *testing.B) *subject { return echov5Sessionkit(manager(b, nil)) }},
	// quasoft/memstore, as for Echo v4 (gorilla has no in-memory store of
	// its own).
	{"echov5-session", func(b *testing.B) *subject {
		return echov5ContribSubject(memstore.NewMemStore([]byte(authKey)))
	}},
	// sessions.NewCookieStore: NOT server-side (values in the cookie).
	{"echov5-session-cookie", func(b *testing.B) *subject {
		s := echov5ContribSubject(sessions.NewCookieStore([]byte(authKey)))
		s.clientSide = true
		return s
	}},
}

// echov5SessionRedis is echo-contrib/v5's session on boj/redistore, as for
// Echo v4, with its round trips counted.
func echov5SessionRedis(b *testing.B, srv *redisServer) *subject {
	srv.flush(b)
	pool, rt := srv.redigoPool(b, true)
	st, err := redistore.NewRediStoreWithPool(pool, []byte(authKey))
	if err != nil {
		b.Fatal(err)
	}
	return withRoundTrips(echov5ContribSubject(st), rt)
}

// echov5SessionPostgres is echo-contrib's session on antonlindstrom/pgstore, the
// gorilla/sessions PostgreSQL store (the one gin-contrib/sessions/postgres
// wraps): NewPGStoreFromPool(db, key), which creates its http_sessions
// table, db a database/sql handle on pgx's stdlib driver.
func echov5SessionPostgres(b *testing.B, pg *pgServer) *subject {
	c := new(pgCount)
	db := pg.sqlDB(b, pg.srv.Schema(b), c)
	st, err := gorillapg.NewPGStoreFromPool(db, []byte(authKey))
	if err != nil {
		b.Fatal(err)
	}
	return withPg(echov5ContribSubject(st), c)
}
