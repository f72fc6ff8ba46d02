package core_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/sessionkit/sessionkit/core"
)

// The four steps an adapter runs for every request, shown without a web
// framework: load, use, commit, and send what the result says.
func Example() {
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	ctx := context.Background()

	// First request: no cookie, so a new, unsaved session.
	s, _ := m.Load(ctx, &core.Request{})
	n, _ := core.Get[int](s, "count")
	_ = s.Put("count", n+1)
	res, _ := m.Commit(ctx, s)
	fmt.Println("cookie:", res.Cookie.Name, len(res.Cookie.Value), "chars")

	// Second request sends the cookie back.
	s, _ = m.Load(ctx, &core.Request{Cookie: []string{res.Cookie.Name + "=" + res.Cookie.Value}})
	n, _ = core.Get[int](s, "count")
	fmt.Println("count:", n)
	res, _ = m.Commit(ctx, s)
	fmt.Println("cookie re-sent on a read:", res.Cookie != nil)
	// Output:
	// cookie: __Host-session 43 chars
	// count: 1
	// cookie re-sent on a read: false
}

// Handlers reach the session through the context, so service code needs no
// web framework.
func ExampleFromContext() {
	m, _ := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer m.Close()
	s, _ := m.Load(context.Background(), &core.Request{})
	ctx := core.NewContext(context.Background(), s)

	addToCart := func(ctx context.Context, item string) {
		cart, _ := core.Get[[]string](core.FromContext(ctx), "cart")
		_ = core.FromContext(ctx).Put("cart", append(cart, item))
	}
	addToCart(ctx, "book")
	addToCart(ctx, "pen")
	cart, _ := core.Get[[]string](s, "cart")
	fmt.Println(cart)
	// Output: [book pen]
}
