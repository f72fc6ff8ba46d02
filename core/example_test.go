package core_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

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

// A login with the user's choices: remember me (a persistent cookie and
// the remembered lifetime), a label for their list of devices, and the
// application's metadata. A label that breaks the bounds is refused.
func ExampleSession_LoginWith() {
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		err := sessionhttp.From(r).LoginWith(r.FormValue("user"), core.LoginOptions{
			Remember: r.FormValue("remember") == "on",
			Label:    r.FormValue("label"),
			Metadata: map[string]string{"region": "eu"},
		})
		if errors.Is(err, core.ErrLoginOptions) {
			http.Error(w, "invalid label", http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "welcome")
	})
	h := sessionhttp.New(m)(mux)

	for _, q := range []string{"user=alice&remember=on&label=Work+laptop", "user=alice&label=%1b[31m"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/login?"+q, nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
		if c := rec.Result().Cookies(); len(c) > 0 {
			fmt.Println("cookie Max-Age:", time.Duration(c[0].MaxAge)*time.Second)
		}
	}
	list, _ := m.ListSessions(context.Background(), "alice")
	fmt.Printf("%s remembered=%v %v\n", list[0].Label, list[0].Remembered, list[0].Metadata)
	// Output:
	// 200 welcome
	// cookie Max-Age: 720h0m0s
	// 400 invalid label
	// Work laptop remembered=true map[region:eu]
}

// The token-level API, for a transport that is not HTTP middleware (a
// WebSocket, gRPC, a tool-call server): the client holds the token and
// sends it with each call.
func ExampleManager_IssueToken() {
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	ctx := context.Background()
	client := core.Client{UserAgent: "mcp-client/1.0", IP: "192.0.2.10"}

	token, _ := m.IssueToken(ctx, "alice", core.LoginOptions{Label: "CLI"}, client)

	// Each call: validate, use, save.
	s, err := m.ValidateToken(ctx, token, client)
	if err != nil {
		panic(err)
	}
	calls, _ := core.Get[int](s, "calls")
	_ = s.Put("calls", calls+1)
	token, _ = m.SaveToken(ctx, s) // the same token, unless it was renewed or rotated
	fmt.Println(s.UserID(), "calls:", calls+1)

	_ = m.DestroyToken(ctx, token, client)
	_, err = m.ValidateToken(ctx, token, client)
	fmt.Println(errors.Is(err, core.ErrInvalidToken))
	// Output:
	// alice calls: 1
	// true
}
