package sessionechov5_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v5"

	sessionechov5 "github.com/sessionkit/sessionkit/adapters/echov5"
	"github.com/sessionkit/sessionkit/core"
)

func Example() {
	m, err := core.New(core.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	e := echo.New()
	e.Use(sessionechov5.New(m))
	e.POST("/counter", func(c *echo.Context) error {
		s := sessionechov5.From(c)
		n, _ := core.Get[int](s, "count")
		if err := s.Put("count", n+1); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]int{"count": n + 1})
	})

	// Two requests from one client: the second sends the cookie back.
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/counter", nil))
	cookie := rec.Result().Cookies()[0]
	fmt.Println(strings.TrimSpace(rec.Body.String()), cookie.Name, cookie.HttpOnly, cookie.Secure)

	req := httptest.NewRequest("POST", "/counter", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	fmt.Println(strings.TrimSpace(rec.Body.String()))
	// Output:
	// {"count":1} __Host-session true true
	// {"count":2}
}
