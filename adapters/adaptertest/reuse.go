package adaptertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
)

// Listen serves the suite's app, with the adapter's middleware on m, on a
// loopback listener until the test ends, and returns its address.
type Listen func(t *testing.T, m *core.Manager, app App) (addr string)

// RunConnectionReuse proves, for an adapter whose framework parses every
// request of a connection into the same buffers (fasthttp), that the
// session keeps nothing of them: anything handed to the session without
// copying (the token, the user agent, the forwarded address recorded at
// Login) would be rewritten in place by the next request, and what the
// store keeps would change under it. Many logins over one connection, each
// with its own user agent and address of the same length (so a later
// request overwrites an earlier one byte for byte), then reads with every
// token, in reverse, with other user agents and addresses, must all find
// what was stored, and the user's session list what each login sent.
// The glue must copy what its app keeps from the request (the URL), as an
// app on such a framework must.
func RunConnectionReuse(t *testing.T, listen Listen) {
	m, err := core.New(core.Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	a := &app{}
	cn, err := Dial(listen(t, m, a.serve))
	require.NoError(t, err)
	defer cn.Close()

	const n = 40
	user := func(i int) string { return fmt.Sprintf("user-%03d", i) }
	agent := func(i int) string { return fmt.Sprintf("agent/%03d (test)", i) }
	addr := func(i int) string { return fmt.Sprintf("198.51.100.%d", 100+i) }
	send := func(method, target string, header ...string) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, "http://example.test"+target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := cn.RoundTrip(req)
		require.NoError(t, err)
		require.False(t, res.Close, "the server keeps the one connection")
		return res
	}
	body := func(res *http.Response) string {
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return string(b)
	}

	tokens := make([]string, n)
	for i := 0; i < n; i++ {
		res := send("POST", "/login?user="+user(i), "User-Agent", agent(i), "X-Forwarded-For", addr(i))
		require.Equal(t, http.StatusOK, res.StatusCode)
		for _, c := range res.Cookies() {
			if c.Name == m.Config().Cookie.Name {
				tokens[i] = c.Value
			}
		}
		require.NotEmpty(t, tokens[i], "login %d set the session cookie", i)
		res = send("POST", fmt.Sprintf("/write?key=n&value=%03d", i), "Cookie", m.Config().Cookie.Name+"="+tokens[i])
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	for i := n - 1; i >= 0; i-- {
		cookie := m.Config().Cookie.Name + "=" + tokens[i]
		other := []string{"Cookie", cookie, "User-Agent", strings.ToUpper(agent(n - 1 - i)), "X-Forwarded-For", addr(n - 1 - i)}
		assert.Equal(t, user(i), body(send("GET", "/whoami", other...)), "token %d", i)
		assert.Equal(t, fmt.Sprintf("%03d", i), body(send("GET", "/read?key=n", other...)), "token %d", i)
	}
	for i := 0; i < n; i++ {
		list, err := m.ListSessions(context.Background(), user(i))
		require.NoError(t, err)
		require.Len(t, list, 1, user(i))
		assert.Equal(t, agent(i), list[0].UserAgent, "%s: user agent", user(i))
		assert.Equal(t, addr(i), list[0].IP, "%s: address", user(i))
	}
}
