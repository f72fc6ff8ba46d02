// Command echov5 is the sessionkit demo on Echo v5: the routes of the demo
// contract (docs/DESIGN.md), answering exactly as the net/http demo does.
//
//	go run ./examples/echov5 -secure=false
//	curl -c jar -b jar -X POST http://127.0.0.1:8080/counter
//	curl -c jar -b jar -d user=alice -d remember=on -d label=Laptop http://127.0.0.1:8080/login
//	curl -c jar -b jar http://127.0.0.1:8080/sessions
//
// A browser's POST, PUT or DELETE from another origin is refused with 403
// by net/http's CrossOriginProtection (demo.CrossOriginProtection), which an
// Echo middleware calls on the request; curl, which sends neither
// Sec-Fetch-Site nor Origin, is served.
//
// Flags: go run ./examples/echov5 -h (among them -remember, the lifetime of a
// session logged in with remember, and -bind user-agent).
package main

import (
	"context"
	"io"
	"net"

	"github.com/sessionkit/sessionkit/examples/demo"
)

func main() { demo.Main("echov5", run) }

// run serves the demo until ctx ends, then shuts down gracefully. ready,
// when not nil, is told the address the server listens on. The Echo
// instance serves as the handler of the demo's http.Server, as in Echo's
// own custom-server recipe, rather than through e.Start, so that every
// demo on net/http runs under the same server settings and shutdown.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	s, err := demo.Start("echov5", args, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	srv := demo.HTTPServer(newEcho(s.Manager, s.Logger), s.Logger)
	s.Listening("Echo v5", ready)
	return demo.Serve(ctx, srv, s.Listener, s.Logger)
}
