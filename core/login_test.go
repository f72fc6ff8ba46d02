package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
)

// exchange is one request from a client with user agent ua: it returns the
// commit's Result and the token the client holds afterwards (a clearing
// cookie leaves it none).
func (f *fixture) exchange(t *testing.T, ua, token string, fn func(*core.Session)) (core.Result, string) {
	t.Helper()
	req := &core.Request{UserAgent: ua, RemoteAddr: "192.0.2.1:4444"}
	if token != "" {
		req.Cookie = []string{f.m.Config().Cookie.Name + "=" + token}
	}
	s, err := f.m.Load(context.Background(), req)
	require.NoError(t, err)
	if fn != nil {
		fn(s)
	}
	res, err := f.m.Commit(context.Background(), s)
	require.NoError(t, err)
	if res.Cookie != nil {
		return res, res.Cookie.Value
	}
	return res, token
}

func TestRememberedLogin(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.RotateAfter = time.Hour })
	cfg := f.m.Config()
	res, tok := f.exchange(t, "ua", "", func(s *core.Session) {
		require.NoError(t, s.LoginWith("alice", core.LoginOptions{Remember: true}))
	})
	require.NotNil(t, res.Cookie)
	assert.Equal(t, int(cfg.RememberLifetime/time.Second), res.Cookie.MaxAge, "a remembered session's cookie lives as long as the session")
	assert.Equal(t, f.now.Add(cfg.RememberLifetime).UTC(), res.Cookie.Expires)

	// Past the ordinary idle timeout and lifetime, within the remembered
	// ones: still logged in, and a rotation keeps it remembered.
	f.advance(cfg.Lifetime + time.Hour)
	res, tok = f.exchange(t, "ua", tok, func(s *core.Session) {
		assert.Equal(t, "alice", s.UserID())
		assert.True(t, s.Remembered())
	})
	require.NotNil(t, res.Cookie, "the rotation was due")
	assert.Equal(t, int((cfg.RememberLifetime-cfg.Lifetime-time.Hour)/time.Second), res.Cookie.MaxAge,
		"the rotated cookie lives for what is left of the lifetime")
	f.exchange(t, "ua", tok, func(s *core.Session) { assert.True(t, s.Remembered()) })

	// Its own idle timeout still ends it.
	f.advance(cfg.RememberIdleTimeout + time.Minute)
	f.exchange(t, "ua", tok, func(s *core.Session) { assert.Empty(t, s.UserID(), "past the remembered idle timeout") })
}

func TestPlainLoginCookieEndsWithTheBrowser(t *testing.T) {
	f := newFixture(t, nil)
	res, tok := f.exchange(t, "ua", "", func(s *core.Session) {
		require.NoError(t, s.LoginWith("alice", core.LoginOptions{Remember: true}))
	})
	require.NotZero(t, res.Cookie.MaxAge)
	// A new login without Remember is not remembered any more.
	res, tok = f.exchange(t, "ua", tok, func(s *core.Session) { s.Login("alice") })
	require.NotNil(t, res.Cookie)
	assert.Zero(t, res.Cookie.MaxAge, "Max-Age on a session cookie")
	assert.True(t, res.Cookie.Expires.IsZero(), "Expires on a session cookie")
	f.advance(f.m.Config().IdleTimeout + time.Minute)
	f.exchange(t, "ua", tok, func(s *core.Session) { assert.Empty(t, s.UserID(), "the plain login kept the remembered idle timeout") })
}

func TestLoginOptionsValidated(t *testing.T) {
	f := newFixture(t, nil)
	bad := map[string]core.LoginOptions{
		"label too long":     {Label: strings.Repeat("é", core.MaxLabelLength+1)},
		"label control":      {Label: "work\nlaptop"},
		"label NUL":          {Label: "a\x00b"},
		"label C1":           {Label: "a\u0085b"},
		"label bidi":         {Label: "abc\u202Eexe.doc"},
		"label invalid UTF8": {Label: "\xff\xfe"},
		"metadata entries":   {Metadata: manyEntries(core.MaxMetadataEntries + 1)},
		"metadata bytes":     {Metadata: map[string]string{"k": strings.Repeat("x", core.MaxMetadataBytes)}},
		"metadata key":       {Metadata: map[string]string{"bad key": "v"}},
		"metadata empty key": {Metadata: map[string]string{"": "v"}},
		"metadata value":     {Metadata: map[string]string{"k": "a\tb"}},
	}
	for name, opts := range bad {
		t.Run(name, func(t *testing.T) {
			res, _ := f.exchange(t, "ua", "", func(s *core.Session) {
				err := s.LoginWith("alice", opts)
				assert.ErrorIs(t, err, core.ErrLoginOptions)
				assert.Empty(t, s.UserID(), "a refused login changed the session")
			})
			assert.Nil(t, res.Cookie, "a refused login was stored")
		})
	}
	// At the bounds: accepted.
	_, tok := f.exchange(t, "ua", "", func(s *core.Session) {
		require.NoError(t, s.LoginWith("alice", core.LoginOptions{
			Label:    strings.Repeat("é", core.MaxLabelLength),
			Metadata: manyEntries(core.MaxMetadataEntries),
		}))
	})
	f.exchange(t, "ua", tok, func(s *core.Session) {
		assert.Equal(t, strings.Repeat("é", core.MaxLabelLength), s.Label())
		assert.Equal(t, manyEntries(core.MaxMetadataEntries), s.Metadata())
	})
}

func manyEntries(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[string(rune('a'+i))+"key"] = "value"
	}
	return m
}

func TestListingRendersForAPage(t *testing.T) {
	f := newFixture(t, nil)
	md := map[string]string{"device": "phone"}
	_, phone := f.exchange(t, "PhoneUA", "", func(s *core.Session) {
		require.NoError(t, s.LoginWith("alice", core.LoginOptions{Label: "Phone", Metadata: md}))
	})
	md["device"] = "changed after login" // the login copied it
	f.advance(time.Minute)
	_, laptop := f.exchange(t, "LaptopUA", "", func(s *core.Session) {
		require.NoError(t, s.LoginWith("alice", core.LoginOptions{Remember: true}))
	})
	var list []core.SessionInfo
	f.exchange(t, "LaptopUA", laptop, func(s *core.Session) {
		var err error
		list, err = s.Sessions(context.Background())
		require.NoError(t, err)
	})
	require.Len(t, list, 2)
	assert.True(t, list[0].Current, "the listing's own session, newest first")
	assert.True(t, list[0].Remembered)
	assert.Equal(t, "", list[0].Label)
	assert.False(t, list[1].Current)
	assert.Equal(t, "Phone", list[1].Label)
	assert.Equal(t, map[string]string{"device": "phone"}, list[1].Metadata)
	assert.Equal(t, "alice", list[1].UserID)

	b, err := json.Marshal(list[1])
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(b, &keys))
	for _, k := range []string{"id", "current", "created_at", "last_seen", "expires_at", "user_agent", "ip", "label", "remembered", "metadata"} {
		assert.Contains(t, keys, k)
	}
	assert.NotContains(t, keys, "UserID", "the user id is not rendered")
	assert.Len(t, keys, 10)
	created, err := time.Parse(time.RFC3339, keys["created_at"].(string))
	require.NoError(t, err)
	assert.True(t, created.Equal(f.now.Add(-time.Minute)))

	// The other device sees the same list, itself current.
	f.exchange(t, "PhoneUA", phone, func(s *core.Session) {
		other, err := s.Sessions(context.Background())
		require.NoError(t, err)
		require.Len(t, other, 2)
		assert.False(t, other[0].Current)
		assert.True(t, other[1].Current)
	})
}

func TestBindingRevokesOnMismatch(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.Binding = core.BindUserAgent })
	_, tok := f.exchange(t, "Firefox/1", "", func(s *core.Session) { s.Login("alice") })
	f.exchange(t, "Firefox/1", tok, func(s *core.Session) { assert.Equal(t, "alice", s.UserID(), "the client it logged in from") })

	// The same token from another client: not served, revoked, cleared.
	res, _ := f.exchange(t, "curl/8", tok, func(s *core.Session) {
		assert.Empty(t, s.UserID(), "a bound session served to another client")
		assert.True(t, s.IsNew())
	})
	require.NotNil(t, res.Cookie)
	assert.Equal(t, -1, res.Cookie.MaxAge, "the mismatched token's cookie is cleared")
	assert.Equal(t, 1, f.count(core.EventBindingMismatch))

	// Revoked for everyone: the legitimate client is logged out too.
	f.exchange(t, "Firefox/1", tok, func(s *core.Session) { assert.Empty(t, s.UserID(), "the session outlived the mismatch") })
	list, err := f.m.ListSessions(context.Background(), "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestBindingLeavesAnonymousSessions(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.Binding = core.BindUserAgent })
	_, tok := f.exchange(t, "Firefox/1", "", func(s *core.Session) { require.NoError(t, s.Put("cart", 3)) })
	f.exchange(t, "curl/8", tok, func(s *core.Session) {
		n, _ := core.Get[int](s, "cart")
		assert.Equal(t, 3, n, "an anonymous session is not bound")
	})
	assert.Zero(t, f.count(core.EventBindingMismatch))
}

func TestDeadTokenCookieCleared(t *testing.T) {
	f := newFixture(t, nil)
	_, tok := f.exchange(t, "ua", "", func(s *core.Session) { require.NoError(t, s.Put("a", 1)) })
	res, _ := f.exchange(t, "ua", tok, func(s *core.Session) { _, _ = core.Get[int](s, "a") })
	assert.Nil(t, res.Cookie, "a live token's cookie is left alone")

	unknown := strings.Repeat("A", 43)
	for name, token := range map[string]string{"unknown": unknown, "malformed": "not-a-token", "destroyed": tok} {
		if name == "destroyed" {
			f.exchange(t, "ua", tok, func(s *core.Session) { s.Destroy() })
		}
		res, _ := f.exchange(t, "ua", token, nil)
		require.NotNil(t, res.Cookie, "%s: the dead cookie is not cleared", name)
		assert.Equal(t, -1, res.Cookie.MaxAge, name)
		assert.Empty(t, res.Cookie.Value, name)
	}
	// A dead token replaced by a new session gets the new cookie.
	res, _ = f.exchange(t, "ua", unknown, func(s *core.Session) { require.NoError(t, s.Put("b", 2)) })
	require.NotNil(t, res.Cookie)
	assert.NotEmpty(t, res.Cookie.Value)
}

func TestDeadTokenLogsLimited(t *testing.T) {
	f := newFixture(t, nil)
	unknown := strings.Repeat("B", 43)
	for range 100 {
		f.exchange(t, "ua", unknown, nil)
	}
	assert.Equal(t, 100, f.count(core.EventInvalidToken), "the hook gets every event")
	lines := strings.Count(f.logs.String(), `"event":"invalid_token"`)
	assert.Equal(t, 20, lines, "one client's dead token flooded the log")

	f.advance(11 * time.Second)
	f.exchange(t, "ua", unknown, nil)
	assert.Contains(t, f.logs.String(), `"suppressed":80`, "the next window's first line says how many were left out")
}

func TestTokenAPI(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.Binding = core.BindUserAgent })
	ctx := context.Background()
	ws := core.Client{UserAgent: "ws-client/1", IP: "198.51.100.7"}
	tok, err := f.m.IssueToken(ctx, "alice", core.LoginOptions{Label: "CLI"}, ws)
	require.NoError(t, err)
	require.Len(t, tok, 43)

	s, err := f.m.ValidateToken(ctx, tok, ws)
	require.NoError(t, err)
	assert.Equal(t, "alice", s.UserID())
	assert.Equal(t, "CLI", s.Label())
	require.NoError(t, s.Put("cursor", 42))
	same, err := f.m.SaveToken(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, tok, same, "a write keeps the token")

	list, err := f.m.ListSessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "198.51.100.7", list[0].IP)
	assert.Equal(t, "ws-client/1", list[0].UserAgent)

	// Refresh moves the idle deadline at once.
	f.advance(20 * time.Minute)
	tok2, err := f.m.RefreshToken(ctx, tok, ws)
	require.NoError(t, err)
	assert.Equal(t, tok, tok2)
	f.advance(20 * time.Minute) // 40 min after login, 20 after the refresh
	s, err = f.m.ValidateToken(ctx, tok, ws)
	require.NoError(t, err, "the refresh did not extend the idle deadline")
	n, _ := core.Get[int](s, "cursor")
	assert.Equal(t, 42, n)

	// Same checks as Load: binding, shape, strict mode.
	_, err = f.m.ValidateToken(ctx, "garbage", ws)
	assert.ErrorIs(t, err, core.ErrInvalidToken)
	_, err = f.m.ValidateToken(ctx, strings.Repeat("C", 43), ws)
	assert.ErrorIs(t, err, core.ErrInvalidToken)
	require.NoError(t, f.m.DestroyToken(ctx, tok, ws))
	_, err = f.m.ValidateToken(ctx, tok, ws)
	assert.ErrorIs(t, err, core.ErrInvalidToken, "a destroyed token still validates")

	tok, err = f.m.IssueToken(ctx, "bob", core.LoginOptions{}, ws)
	require.NoError(t, err)
	_, err = f.m.ValidateToken(ctx, tok, core.Client{UserAgent: "thief/1", IP: "203.0.113.9"})
	assert.ErrorIs(t, err, core.ErrInvalidToken, "another client passed the binding")
	_, err = f.m.ValidateToken(ctx, tok, ws)
	assert.ErrorIs(t, err, core.ErrInvalidToken, "the mismatch did not revoke the session")
	assert.Equal(t, 1, f.count(core.EventBindingMismatch))

	_, err = f.m.IssueToken(ctx, "carol", core.LoginOptions{Label: "bad\x00"}, ws)
	assert.ErrorIs(t, err, core.ErrLoginOptions)
}

// notWalker is a store that cannot walk.
type notWalker struct{ store.Store }

func TestAllSessions(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	want := map[string]string{}
	for _, user := range []string{"alice", "bob", ""} {
		_, tok := f.exchange(t, "ua", "", func(s *core.Session) {
			if user != "" {
				s.Login(user)
			} else {
				require.NoError(t, s.Put("a", 1))
			}
		})
		want[sha(tok)] = user
	}
	got := map[string]string{}
	for info, err := range f.m.AllSessions(ctx) {
		require.NoError(t, err)
		got[info.ID] = info.UserID
	}
	assert.Equal(t, want, got)

	// Stopping early stops the walk.
	n := 0
	for _, err := range f.m.AllSessions(ctx) {
		require.NoError(t, err)
		n++
		break
	}
	assert.Equal(t, 1, n)

	// A store that cannot walk says so, once.
	g := newFixture(t, func(c *core.Config) { c.Store = notWalker{} })
	yields := 0
	for _, err := range g.m.AllSessions(ctx) {
		yields++
		assert.True(t, errors.Is(err, core.ErrWalkUnsupported), "got %v", err)
	}
	assert.Equal(t, 1, yields)
}
