// Command gin is the sessionkit demo on Gin: the routes of the demo
// contract (docs/DESIGN.md), answering exactly as the net/http demo does.
//
//	go run ./examples/gin -secure=false
//	curl -c jar -b jar -X POST http://127.0.0.1:8080/counter
//	curl -c jar -b jar -d user=alice -d remember=on -d label=Laptop http://127.0.0.1:8080/login
//	curl -c jar -b jar http://127.0.0.1:8080/sessions
//
// A browser's POST, PUT or DELETE from another origin is refused with 403
// by net/http's CrossOriginProtection (demo.CrossOriginProtection), which a
// Gin middleware calls on the request; curl, which sends neither
// Sec-Fetch-Site nor Origin, is served.
//
// Flags: go run ./examples/gin -h (among them -remember, the lifetime of a
// session logged in with remember, and -bind user-agent).
package main

import (
	"context"
	"io"
	"net"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/examples/demo"
)

func main() {
	// Release mode unless GIN_MODE says otherwise: no route table and
	// debug warnings on stdout; the demo logs with its own logger.
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	demo.Main("gin", run)
}

// run serves the demo until ctx ends, then shuts down gracefully. ready,
// when not nil, is told the address the server listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	s, err := demo.Start("gin", args, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	srv := demo.HTTPServer(newRouter(s.Manager, s.Logger), s.Logger)
	s.Listening("Gin", ready)
	return demo.Serve(ctx, srv, s.Listener, s.Logger)
}
