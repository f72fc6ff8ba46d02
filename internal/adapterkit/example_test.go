package adapterkit_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/adapterkit"
)

// A store failure is answered 503 with the generic body. The handler had
// announced a Content-Length for the body it meant to send; it would not
// match the error body, so it goes.
func ExampleWriteError() {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Length", "1024")
	adapterkit.WriteError(rec, fmt.Errorf("load: %w", core.ErrStore))

	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	fmt.Printf("Content-Length %q\n", rec.Header().Get("Content-Length"))
	fmt.Println(rec.Body.String())
	// Output:
	// 503 application/json no-store
	// Content-Length ""
	// {"error":"session store unavailable"}
}
