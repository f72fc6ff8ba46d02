package core

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, 30*time.Minute, c.IdleTimeout)
	assert.Equal(t, 24*time.Hour, c.Lifetime)
	assert.Zero(t, c.RotateAfter, "rotation off")
	assert.Equal(t, 5*time.Second, c.RotateGrace)
	assert.Equal(t, "__Host-session", c.Cookie.Name, "strongest name the settings allow")
	assert.Equal(t, "/", c.Cookie.Path)
	assert.Equal(t, TransportCookie, c.Transport)
	assert.Equal(t, "Session-Token", c.HeaderName)

	c, err = Config{Cookie: CookieConfig{Insecure: true}}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, "session", c.Cookie.Name, "__Host- needs Secure")
	c, err = Config{Cookie: CookieConfig{Domain: "example.com"}}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, "session", c.Cookie.Name, "__Host- forbids Domain")
}

func TestConfigRejects(t *testing.T) {
	cases := map[string]Config{
		"negative idle":              {IdleTimeout: -time.Second},
		"negative lifetime":          {Lifetime: -time.Second},
		"negative rotation":          {RotateAfter: -time.Second},
		"negative grace":             {RotateGrace: -time.Second},
		"lifetime shorter than idle": {IdleTimeout: time.Hour, Lifetime: time.Minute},
		"grace not below rotation":   {RotateAfter: time.Second, RotateGrace: time.Second},
		"unknown transport":          {Transport: 9},
		"bad header name":            {HeaderName: "Session Token"},
		"SameSite=None insecure":     {Cookie: CookieConfig{SameSite: SameSiteNone, Insecure: true}},
		"unknown SameSite":           {Cookie: CookieConfig{SameSite: 7}},
		"Partitioned insecure":       {Cookie: CookieConfig{Partitioned: true, Insecure: true}},
		"__Host- with Domain":        {Cookie: CookieConfig{Name: "__Host-s", Domain: "example.com"}},
		"__Host- insecure":           {Cookie: CookieConfig{Name: "__Host-s", Insecure: true}},
		"__Host- with Path":          {Cookie: CookieConfig{Name: "__Host-s", Path: "/app"}},
		"__Secure- insecure":         {Cookie: CookieConfig{Name: "__Secure-s", Insecure: true}},
		"cookie name with space":     {Cookie: CookieConfig{Name: "my session"}},
		"cookie name with =":         {Cookie: CookieConfig{Name: "a=b"}},
		"path without slash":         {Cookie: CookieConfig{Path: "app"}},
		"path with semicolon":        {Cookie: CookieConfig{Path: "/a;b"}},
		"domain with CRLF":           {Cookie: CookieConfig{Domain: "a.com\r\nX: y"}},
	}
	for name, cfg := range cases {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrConfig, name)
	}
	m, err := New(Config{Cookie: CookieConfig{SameSite: SameSiteNone, Partitioned: true}})
	require.NoError(t, err, "SameSite=None with Secure is fine")
	require.NoError(t, m.Close())
}
