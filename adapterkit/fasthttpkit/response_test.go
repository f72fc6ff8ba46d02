package fasthttpkit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/valyala/fasthttp"

	"github.com/sessionkit/sessionkit/adapterkit/fasthttpkit"
	"github.com/sessionkit/sessionkit/core"
)

// TestApplyNewTokenAllocatesNothing: the headers of a response that issues
// a token (Set-Cookie with Expires and Max-Age, Vary, Cache-Control) cost
// no allocation of Apply's own: the cookie is rendered into a pooled
// buffer that fasthttp copies. The line is net/http's rendering.
func TestApplyNewTokenAllocatesNothing(t *testing.T) {
	c := &http.Cookie{Name: "__Host-session", Value: "JrQ6ld0wDgHRvIMWb4vIPN2yTsOzh3DJzo1sG8-IlAg", Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(time.Hour), MaxAge: 3600}
	res := core.Result{Cookie: c}
	var resp fasthttp.Response
	fasthttpkit.Apply(&resp.Header, &res) // warms the pool and fasthttp's buffers
	assert.Equal(t, c.String(), string(resp.Header.PeekCookie(c.Name)))
	allocs := testing.AllocsPerRun(100, func() {
		resp.Header.Reset()
		fasthttpkit.Apply(&resp.Header, &res)
	})
	if !raceEnabled {
		assert.Zero(t, allocs)
	}
	assert.Equal(t, c.String(), string(resp.Header.PeekCookie(c.Name)))
	assert.Equal(t, "no-store", string(resp.Header.Peek("Cache-Control")))
	assert.Equal(t, "Cookie", string(resp.Header.Peek("Vary")))
}

// BenchmarkApplyRead is Apply for a request that only read its session:
// Vary and Cache-Control: private, on a response with a few headers of
// the handler's own.
func BenchmarkApplyRead(b *testing.B) {
	res := core.Result{Vary: "Cookie"}
	var resp fasthttp.Response
	b.ReportAllocs()
	for b.Loop() {
		resp.Header.Reset()
		resp.Header.SetContentType("application/json")
		resp.Header.Set("X-Request-Id", "42")
		fasthttpkit.Apply(&resp.Header, &res)
	}
}
