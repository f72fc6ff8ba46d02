package fasthttpkit

import (
	"github.com/valyala/fasthttp"

	"github.com/sessionkit/sessionkit/core"
)

// Request fills a core.Request from ctx's headers. fasthttp reuses its
// buffers for the next request on the connection, and the session keeps
// the token (and, at Login, the user agent and the client's addresses)
// beyond this request, so every field is a copy: string(b) copies, where
// a framework's own accessors (Fiber's c.Get, c.Cookies) alias the buffer.
//
// The user agent and addresses come from Client, asked only at Login: for
// most requests they would be allocations for nothing.
func Request(ctx *fasthttp.RequestCtx) core.Request {
	h := &ctx.Request.Header
	// PeekAll gives every Cookie line as received (or, once something has
	// parsed the cookies, one line with all of them, duplicates kept), so a
	// cookie sent twice is still seen twice and refused as ambiguous.
	var cookies []string
	for _, v := range h.PeekAll(fasthttp.HeaderCookie) {
		cookies = append(cookies, string(v))
	}
	var auth []string
	for _, v := range h.PeekAll(fasthttp.HeaderAuthorization) {
		auth = append(auth, string(v))
	}
	return core.Request{Cookie: cookies, Authorization: auth, Client: (*Client)(ctx)}
}

// Client is a request's core.ClientSource: the user agent, the remote
// address and X-Forwarded-For, copied when the session asks (at Login). A
// fasthttp.RequestCtx is valid until the handler returns, and Login runs
// inside it.
type Client fasthttp.RequestCtx

// ClientInfo implements core.ClientSource.
func (cl *Client) ClientInfo() (userAgent, remoteAddr, forwardedFor string) {
	ctx := (*fasthttp.RequestCtx)(cl)
	h := &ctx.Request.Header
	return string(h.UserAgent()), ctx.RemoteAddr().String(), string(h.Peek(fasthttp.HeaderXForwardedFor))
}
