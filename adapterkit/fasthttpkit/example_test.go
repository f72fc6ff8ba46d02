package fasthttpkit_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/valyala/fasthttp"

	"github.com/sessionkit/sessionkit/adapterkit/fasthttpkit"
	"github.com/sessionkit/sessionkit/core"
)

// A whole adapter for a plain fasthttp.RequestHandler: read (copies of the
// reused buffers), load, run the handler, commit once after it, render.
func Example() {
	m, err := core.New(core.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	handler := func(ctx *fasthttp.RequestCtx, s *core.Session) {
		ctx.Response.Header.Set("Vary", "Accept-Encoding")
		n, _ := core.Get[int](s, "count")
		_ = s.Put("count", n+1)
		fmt.Fprint(ctx, n+1)
	}
	adapter := func(ctx *fasthttp.RequestCtx) {
		req := fasthttpkit.Request(ctx)
		s, err := m.Load(context.Background(), &req)
		if err != nil {
			fasthttpkit.WriteError(&ctx.Response, err)
			return
		}
		handler(ctx, s)
		res, err := m.Commit(context.Background(), s)
		if err != nil {
			fasthttpkit.WriteError(&ctx.Response, err)
			return
		}
		fasthttpkit.Apply(&ctx.Response.Header, &res)
	}

	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod("POST")
	adapter(&ctx)
	fmt.Println(string(ctx.Response.Body()), string(ctx.Response.Header.Peek("Vary")), string(ctx.Response.Header.Peek("Cache-Control")))
	// Output: 1 Accept-Encoding, Cookie no-store
}
