package sessiongin_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	sessiongin "github.com/sessionkit/sessionkit/adapters/gin"
	"github.com/sessionkit/sessionkit/core"
)

func Example() {
	gin.SetMode(gin.ReleaseMode)
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	r := gin.New()
	r.Use(sessiongin.New(m))
	r.POST("/counter", func(c *gin.Context) {
		s := sessiongin.From(c)
		n, _ := core.Get[int](s, "count")
		if err := s.Put("count", n+1); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"count": n + 1})
	})

	// Two requests from one client: the second sends the cookie back.
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", "/counter", nil))
	cookie := rec.Result().Cookies()[0]
	fmt.Println(rec.Body.String(), cookie.Name, cookie.HttpOnly, cookie.Secure)

	req := httptest.NewRequest("POST", "/counter", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String())
	// Output:
	// {"count":1} __Host-session true true
	// {"count":2}
}
