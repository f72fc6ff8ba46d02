package sessionfiberv3_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"

	"github.com/gofiber/fiber/v3"

	sessionfiberv3 "github.com/sessionkit/sessionkit/adapters/fiberv3"
	"github.com/sessionkit/sessionkit/core"
)

func Example() {
	m, err := core.New(core.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	app := fiber.New()
	app.Use(sessionfiberv3.New(m))
	app.Post("/counter", func(c fiber.Ctx) error {
		s := sessionfiberv3.From(c)
		n, _ := core.Get[int](s, "count")
		if err := s.Put("count", n+1); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"count": n + 1})
	})

	// Two requests from one client: the second sends the cookie back.
	res, err := app.Test(httptest.NewRequest("POST", "/counter", nil))
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	cookie := res.Cookies()[0]
	fmt.Println(string(body), cookie.Name, cookie.HttpOnly, cookie.Secure)

	req := httptest.NewRequest("POST", "/counter", nil)
	req.AddCookie(cookie)
	res, err = app.Test(req)
	if err != nil {
		panic(err)
	}
	body, _ = io.ReadAll(res.Body)
	fmt.Println(string(body))
	// Output:
	// {"count":1} __Host-session true true
	// {"count":2}
}
