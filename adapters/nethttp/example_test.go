package sessionhttp_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
)

func Example() {
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /counter", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		n, _ := core.Get[int](s, "count")
		_ = s.Put("count", n+1)
		fmt.Fprintf(w, "%d", n+1)
	})
	handler := sessionhttp.New(m)(mux)

	// Two requests from one client: the second sends the cookie back.
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("POST", "/counter", nil))
	cookie := rec.Result().Cookies()[0]
	fmt.Println(rec.Body.String(), cookie.Name, cookie.HttpOnly, cookie.Secure)

	req := httptest.NewRequest("POST", "/counter", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String())
	// Output:
	// 1 __Host-session true true
	// 2
}
