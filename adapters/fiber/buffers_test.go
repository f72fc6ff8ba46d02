package sessionfiber_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessionfiber "github.com/sessionkit/sessionkit/adapters/fiber"
	"github.com/sessionkit/sessionkit/core"
)

// fasthttp parses every request on a connection into the same buffers.
// Anything the middleware hands the session without copying (the token, the
// user agent, the forwarded address recorded at Login) would be rewritten
// in place by the next request, and what the store keeps would change under
// it. Many logins on one connection, each with its own user agent and
// address of the same length (so a later request overwrites an earlier one
// byte for byte), then reads with every token, must all find what was
// stored.
func TestRequestBuffersNotRetained(t *testing.T) {
	m := newManager(t, core.Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(sessionfiber.New(m))
	app.Post("/login", func(c *fiber.Ctx) error {
		s := sessionfiber.From(c)
		// The app copies what it takes from the request, as a Fiber app
		// without Immutable must; the middleware's own inputs are the
		// subject here.
		s.Login(strings.Clone(c.Query("user")))
		if err := s.Put("n", c.QueryInt("n")); err != nil {
			return err
		}
		return c.SendString(c.Context().RemoteAddr().String())
	})
	app.Get("/me", func(c *fiber.Ctx) error {
		s := sessionfiber.From(c)
		n, _ := core.Get[int](s, "n")
		return c.SendString(fmt.Sprintf("%s %d", s.UserID(), n))
	})
	cn, err := dial(listen(t, app))
	require.NoError(t, err)
	defer cn.Close()

	const n = 40
	user := func(i int) string { return fmt.Sprintf("user-%03d", i) }
	agent := func(i int) string { return fmt.Sprintf("agent/%03d (test)", i) }
	addr := func(i int) string { return fmt.Sprintf("198.51.100.%d", 100+i) }

	tokens := make([]string, n)
	var clientAddr string
	for i := 0; i < n; i++ {
		req := httptest.NewRequest("POST", fmt.Sprintf("http://example.test/login?user=%s&n=%d", user(i), i), nil)
		req.Header.Set("User-Agent", agent(i))
		req.Header.Set("X-Forwarded-For", addr(i))
		res, err := cn.roundTrip(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.False(t, res.Close, "the server keeps the connection")
		body := bodyOf(t, res)
		if i == 0 {
			clientAddr = body
		}
		require.Equal(t, clientAddr, body, "every request came over the one connection")
		tokens[i] = sessionCookie(t, res).Value
	}

	// The reads send other user agents and addresses of the same lengths,
	// and the tokens in reverse order, so each buffer is overwritten again.
	for i := n - 1; i >= 0; i-- {
		req := httptest.NewRequest("GET", "http://example.test/me", nil)
		req.Header.Set("Cookie", "__Host-session="+tokens[i])
		req.Header.Set("User-Agent", strings.ToUpper(agent(n-1-i)))
		req.Header.Set("X-Forwarded-For", addr(n-1-i))
		res, err := cn.roundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("%s %d", user(i), i), bodyOf(t, res), "token %d", i)
	}

	for i := 0; i < n; i++ {
		list, err := m.ListSessions(context.Background(), user(i))
		require.NoError(t, err)
		require.Len(t, list, 1, user(i))
		assert.Equal(t, agent(i), list[0].UserAgent, "%s: user agent", user(i))
		assert.Equal(t, addr(i), list[0].IP, "%s: address", user(i))
	}
}

func bodyOf(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}
