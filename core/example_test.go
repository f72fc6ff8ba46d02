package core_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
)

// A handler's view: the adapter hands it the session, and it reads and
// writes typed values, logs a user in, and never touches tokens or the
// store. The adapter saves the session and sends its cookie.
func Example() {
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		s.Login(r.FormValue("user")) // a new token, bound to the user
		visits, _ := core.Get[int](s, "visits")
		_ = s.Put("visits", visits+1)
		fmt.Fprintln(w, "hello", s.UserID())
	})
	h := sessionhttp.New(m)(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/login?user=alice", nil))
	fmt.Print(rec.Body.String())
	fmt.Println("cookie:", rec.Result().Cookies()[0].Name)
	// Output:
	// hello alice
	// cookie: __Host-session
}

// The four steps an adapter runs for every request (the Adapter API),
// shown without a web framework: load, use, commit, and send what the
// result says.
func ExampleManager_Load() {
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
