package bench

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	ginmemstore "github.com/gin-contrib/sessions/memstore"
	ginpostgres "github.com/gin-contrib/sessions/postgres"
	ginredis "github.com/gin-contrib/sessions/redis"
	"github.com/gin-gonic/gin"

	sessiongin "github.com/sessionkit/sessionkit/adapters/gin"
	"github.com/sessionkit/sessionkit/core"
)

// Gin: sessionkit's sessiongin against gin-contrib/sessions, on gin.New()
// (no logger, no recovery) in release mode.

func init() { gin.SetMode(gin.ReleaseMode) }

func ginFloor(b *testing.B) *subject {
	r := gin.New()
	r.POST("/set", func(c *gin.Context) { c.String(http.StatusOK, setBody) })
	r.GET("/get", func(c *gin.Context) { c.String(http.StatusOK, valueWant) })
	r.POST("/incr", func(c *gin.Context) { c.String(http.StatusOK, floorNext()) })
	return &subject{std: r}
}

func ginSessionkit(m *core.Manager) *subject {
	r := gin.New()
	r.Use(sessiongin.New(m))
	r.POST("/set", func(c *gin.Context) {
		if err := sessiongin.From(c).Put(valueKey, valueWant); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, setBody)
	})
	r.GET("/get", func(c *gin.Context) {
		v, ok := core.Get[string](sessiongin.From(c), valueKey)
		if !ok {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.String(http.StatusOK, v)
	})
	r.POST("/incr", func(c *gin.Context) {
		s := sessiongin.From(c)
		n, _ := core.Get[int](s, counterKey)
		if err := s.Put(counterKey, n+1); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, strconv.Itoa(n+1))
	})
	return &subject{cookie: sessionkitCookie, std: r}
}

// ginContribSubject serves the routes through sessions.Sessions("session",
// st), the way gin-contrib/sessions' README does: Default(c), Get, Set,
// Save.
func ginContribSubject(st sessions.Store) *subject {
	r := gin.New()
	r.Use(sessions.Sessions("session", st))
	r.POST("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set(valueKey, valueWant)
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, setBody)
	})
	r.GET("/get", func(c *gin.Context) {
		v, ok := sessions.Default(c).Get(valueKey).(string)
		if !ok {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.String(http.StatusOK, v)
	})
	r.POST("/incr", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get(counterKey).(int)
		s.Set(counterKey, n+1)
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, strconv.Itoa(n+1))
	})
	return &subject{cookie: "session", std: r}
}

var ginMemory = []factory{
	{"sessionkit", func(b *testing.B) *subject { return ginSessionkit(manager(b, nil)) }},
	// gin-contrib/sessions/memstore: server-side, quasoft/memstore under it
	// (values in a map, copied through gob on every load and save; the
	// cookie carries the session ID signed with HMAC-SHA256, not
	// encrypted). Default options: Path /, MaxAge 30 days.
	{"gin-sessions", func(b *testing.B) *subject { return ginContribSubject(ginmemstore.NewStore([]byte(authKey))) }},
	// gin-contrib/sessions/cookie, the README's default: NOT server-side;
	// the values themselves travel in the cookie (gob, HMAC-signed, not
	// encrypted). Shown for reference, never the "fastest peer".
	{"gin-sessions-cookie", func(b *testing.B) *subject {
		s := ginContribSubject(cookie.NewStore([]byte(authKey)))
		s.clientSide = true
		return s
	}},
}

// ginSessionsRedis is gin-contrib/sessions/redis: boj/redistore on the pool
// redis.NewStore(10, "tcp", addr, "", "", key) builds (MaxIdle 10, a PING
// on every borrow), here with its round trips counted.
func ginSessionsRedis(b *testing.B, srv *redisServer) *subject {
	srv.flush(b)
	pool, rt := srv.redigoPool(b, true)
	st, err := ginredis.NewStoreWithPool(pool, []byte(authKey))
	if err != nil {
		b.Fatal(err)
	}
	return withRoundTrips(ginContribSubject(st), rt)
}

// ginSessionsPostgres is gin-contrib/sessions/postgres:
// postgres.NewStore(db, key), antonlindstrom/pgstore under it (which
// creates its http_sessions table), db a database/sql handle on pgx's
// stdlib driver.
func ginSessionsPostgres(b *testing.B, pg *pgServer) *subject {
	c := new(pgCount)
	db := pg.sqlDB(b, pg.srv.Schema(b), c)
	st, err := ginpostgres.NewStore(db, []byte(authKey))
	if err != nil {
		b.Fatal(err)
	}
	return withPg(ginContribSubject(st), c)
}
