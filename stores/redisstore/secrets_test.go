package redisstore_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
)

// TestNoRawTokenInRedis drives real sessions through the manager (create,
// login, rotation with grace, values, revoke) and then reads every key and
// every value on a server of its own: no raw token appears anywhere, only
// hashes.
func TestNoRawTokenInRedis(t *testing.T) {
	_, client, st := ownServer(t)
	now := time.Now()
	m, err := core.New(core.Config{
		Store: st, RotateAfter: time.Minute,
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ctx := context.Background()

	var tokens []string
	// A marker stored as a value: the scan must find it, or it proves nothing.
	const control = "control-Zq8uX3vLw0Jp"
	request := func(token string, fn func(*core.Session)) string {
		req := &core.Request{UserAgent: "agent", RemoteAddr: "127.0.0.1:1"}
		if token != "" {
			req.Cookie = []string{"__Host-session=" + token}
		}
		s, err := m.Load(ctx, req)
		require.NoError(t, err)
		if fn != nil {
			fn(s)
		}
		res, err := m.Commit(ctx, s)
		require.NoError(t, err)
		if res.Cookie != nil && res.Cookie.Value != "" {
			tokens = append(tokens, res.Cookie.Value)
			return res.Cookie.Value
		}
		return token
	}
	for i := 0; i < 3; i++ {
		tok := request("", func(s *core.Session) { _ = s.Put("cart", "book") })
		tok = request(tok, func(s *core.Session) { s.Login("ann") })
		tok = request(tok, func(s *core.Session) { _ = s.Put("note", control) })
		now = now.Add(2 * time.Minute)
		request(tok, nil) // rotates; the old ID becomes a forwarding entry
	}
	// dump is every key and every value on the server, as bytes.
	dump := func() string {
		var all strings.Builder
		keys, err := client.Keys(ctx, "*").Result()
		require.NoError(t, err)
		require.NotEmpty(t, keys)
		for _, k := range keys {
			v, err := client.Dump(ctx, k).Result()
			require.NoError(t, err)
			all.WriteString(k + "\n" + v + "\n")
		}
		return all.String()
	}
	require.GreaterOrEqual(t, len(tokens), 9)
	live := dump()
	require.Contains(t, live, control, "the scan sees stored values")
	_, err = m.RevokeAll(ctx, "ann", "")
	require.NoError(t, err)
	after := dump() // forwarding entries, tombstones, the user index
	for _, tok := range tokens {
		assert.NotContains(t, live, tok, "a raw token is in Redis")
		assert.NotContains(t, after, tok, "a raw token is in Redis after revocation")
	}
}
