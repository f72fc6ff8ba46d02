// Package adaptertest is the HTTP-level behaviour suite every sessionkit
// adapter passes, so that net/http, Gin, Echo (v4, v5) and Fiber (v2, v3),
// and an adapter written elsewhere on package adapterkit, prove the same
// contract with the same assertions. Beside Run, RunHijack covers adapters
// whose handlers can hijack the connection through net/http types, and
// RunConnectionReuse those whose framework reuses a connection's request
// buffers (fasthttp), served over ListenerServer's real connections.
//
// An adapter runs it by giving Run a Factory: a function that builds the
// framework's app with the adapter's middleware on the given manager and
// sends every request, whatever its path, to the suite's app function
// through the framework's own handler types. The glue is small:
//
//	adaptertest.Run(t, func(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
//		h := sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			app(&adaptertest.Exchange{
//				URL:            r.URL.RequestURI(),
//				Session:        sessionhttp.From(r),
//				ContextSession: core.FromContext(r.Context()),
//				Respond: func(status int, body string) {
//					w.WriteHeader(status)
//					io.WriteString(w, body)
//				},
//			})
//		}))
//		return adaptertest.HandlerServer(h)
//	})
//
// The suite builds its own managers (with an injectable clock and a store
// it can watch and break), so it needs nothing else from the adapter.
package adaptertest
