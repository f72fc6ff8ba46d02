package bench

import (
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/session"
	fiberredis "github.com/gofiber/storage/redis/v3"

	sessionfiberv3 "github.com/sessionkit/sessionkit/adapters/fiberv3"
	"github.com/sessionkit/sessionkit/core"
)

// Fiber v3: sessionkit's sessionfiberv3 against Fiber v3's own
// middleware/session, driven through app.Handler() with a reused
// fasthttp.RequestCtx.

func fiberv3Floor(b *testing.B) *subject {
	app := fiber.New()
	app.Post("/set", func(c fiber.Ctx) error { return c.SendString(setBody) })
	app.Get("/get", func(c fiber.Ctx) error { return c.SendString(valueWant) })
	app.Post("/incr", func(c fiber.Ctx) error { return c.SendString(floorNext()) })
	return &subject{fast: app.Handler()}
}

func fiberv3Sessionkit(m *core.Manager) *subject {
	app := fiber.New()
	app.Use(sessionfiberv3.New(m))
	app.Post("/set", func(c fiber.Ctx) error {
		if err := sessionfiberv3.From(c).Put(valueKey, valueWant); err != nil {
			return err
		}
		return c.SendString(setBody)
	})
	app.Get("/get", func(c fiber.Ctx) error {
		v, ok := core.Get[string](sessionfiberv3.From(c), valueKey)
		if !ok {
			return fiber.ErrInternalServerError
		}
		return c.SendString(v)
	})
	app.Post("/incr", func(c fiber.Ctx) error {
		s := sessionfiberv3.From(c)
		n, _ := core.Get[int](s, counterKey)
		if err := s.Put(counterKey, n+1); err != nil {
			return err
		}
		return c.SendString(strconv.Itoa(n + 1))
	})
	return &subject{cookie: sessionkitCookie, fast: app.Handler()}
}

// fiberv3SessionSubject serves the routes the way Fiber v3's docs use
// middleware/session: app.Use(session.New(cfg)), then
// session.FromContext(c) with Get and Set; the middleware saves the
// session after the handler (on every request: that refreshes its idle
// timeout).
func fiberv3SessionSubject(cfg session.Config) *subject {
	app := fiber.New()
	app.Use(session.New(cfg))
	app.Post("/set", func(c fiber.Ctx) error {
		session.FromContext(c).Set(valueKey, valueWant)
		return c.SendString(setBody)
	})
	app.Get("/get", func(c fiber.Ctx) error {
		v, ok := session.FromContext(c).Get(valueKey).(string)
		if !ok {
			return fiber.ErrInternalServerError
		}
		return c.SendString(v)
	})
	app.Post("/incr", func(c fiber.Ctx) error {
		s := session.FromContext(c)
		n, _ := s.Get(counterKey).(int)
		s.Set(counterKey, n+1)
		return c.SendString(strconv.Itoa(n + 1))
	})
	return &subject{cookie: "session_id", fast: app.Handler()}
}

var fiberv3Memory = []factory{
	{"sessionkit", func(b *testing.B) *subject { return fiberv3Sessionkit(manager(b, nil)) }},
	// session.New(): Fiber v3's default memory storage (server-side:
	// msgp-encoded values under a random key), 30m idle timeout, cookie
	// "session_id".
	{"fiberv3-session", func(b *testing.B) *subject { return fiberv3SessionSubject(session.Config{}) }},
}

// fiberv3SessionRedis is Fiber v3's middleware/session on
// gofiber/storage/redis/v3 with its defaults, with its round trips
// counted.
func fiberv3SessionRedis(b *testing.B, srv *redisServer) *subject {
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
	return withRoundTrips(fiberv3SessionSubject(session.Config{Storage: st}), rt)
}
