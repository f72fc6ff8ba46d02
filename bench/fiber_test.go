package bench

import (
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	fiberredis "github.com/gofiber/storage/redis/v3"

	sessionfiber "github.com/sessionkit/sessionkit/adapters/fiber"
	"github.com/sessionkit/sessionkit/core"
)

// Fiber v2: sessionkit's sessionfiber against Fiber's own
// middleware/session, driven through app.Handler() with a reused
// fasthttp.RequestCtx.

func fiberApp() *fiber.App {
	return fiber.New(fiber.Config{DisableStartupMessage: true})
}

func fiberFloor(b *testing.B) *subject {
	app := fiberApp()
	app.Post("/set", func(c *fiber.Ctx) error { return c.SendString(setBody) })
	app.Get("/get", func(c *fiber.Ctx) error { return c.SendString(valueWant) })
	app.Post("/incr", func(c *fiber.Ctx) error { return c.SendString(floorNext()) })
	return &subject{fast: app.Handler()}
}

func fiberSessionkit(m *core.Manager) *subject {
	app := fiberApp()
	app.Use(sessionfiber.New(m))
	app.Post("/set", func(c *fiber.Ctx) error {
		if err := sessionfiber.From(c).Put(valueKey, valueWant); err != nil {
			return err
		}
		return c.SendString(setBody)
	})
	app.Get("/get", func(c *fiber.Ctx) error {
		v, ok := core.Get[string](sessionfiber.From(c), valueKey)
		if !ok {
			return fiber.ErrInternalServerError
		}
		return c.SendString(v)
	})
	app.Post("/incr", func(c *fiber.Ctx) error {
		s := sessionfiber.From(c)
		n, _ := core.Get[int](s, counterKey)
		if err := s.Put(counterKey, n+1); err != nil {
			return err
		}
		return c.SendString(strconv.Itoa(n + 1))
	})
	return &subject{cookie: sessionkitCookie, fast: app.Handler()}
}

// fiberSessionSubject serves the routes the way Fiber's docs use
// middleware/session: store.Get(c), Get/Set, Save.
func fiberSessionSubject(store *session.Store) *subject {
	app := fiberApp()
	app.Post("/set", func(c *fiber.Ctx) error {
		s, err := store.Get(c)
		if err != nil {
			return err
		}
		s.Set(valueKey, valueWant)
		if err := s.Save(); err != nil {
			return err
		}
		return c.SendString(setBody)
	})
	app.Get("/get", func(c *fiber.Ctx) error {
		s, err := store.Get(c)
		if err != nil {
			return err
		}
		v, ok := s.Get(valueKey).(string)
		if !ok {
			return fiber.ErrInternalServerError
		}
		return c.SendString(v)
	})
	app.Post("/incr", func(c *fiber.Ctx) error {
		s, err := store.Get(c)
		if err != nil {
			return err
		}
		n, _ := s.Get(counterKey).(int)
		s.Set(counterKey, n+1)
		if err := s.Save(); err != nil {
			return err
		}
		return c.SendString(strconv.Itoa(n + 1))
	})
	return &subject{cookie: "session_id", fast: app.Handler()}
}

var fiberMemory = []factory{
	{"sessionkit", func(b *testing.B) *subject { return fiberSessionkit(manager(b, nil)) }},
	// session.New(): Fiber's default memory storage (server-side: gob-encoded
	// values under a UUIDv4 key, gc every 10s), 24h expiration, cookie
	// "session_id".
	{"fiber-session", func(b *testing.B) *subject {
		st := session.New()
		b.Cleanup(func() { _ = st.Storage.Close() })
		return fiberSessionSubject(st)
	}},
}

// fiberSessionRedis is Fiber's middleware/session on
// gofiber/storage/redis/v3 with its defaults (go-redis v9, pool of 10 per
// CPU), with its round trips counted.
func fiberSessionRedis(b *testing.B, srv *redisServer) *subject {
	srv.flush(b)
	host, port, err := net.SplitHostPort(srv.addrs[0])
	if err != nil {
		b.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	st := fiberredis.New(fiberredis.Config{Host: host, Port: p})
	b.Cleanup(func() { _ = st.Close() })
	rt := new(atomic.Int64)
	st.Conn().AddHook(roundTripHook{rt})
	return withRoundTrips(fiberSessionSubject(session.New(session.Config{Storage: st})), rt)
}
