// Package fasthttpkit is the part of the adapter kit for frameworks built
// on fasthttp (Fiber v2 and v3 here; Hertz's or Atreugo's adapters could use
// it too). It is a package of its own so that adapters on net/http never
// link fasthttp.
//
// fasthttp reuses a connection's request buffers for its next request, and
// the session keeps what it is given beyond the request: Request copies
// every byte it hands core. Such a framework writes the response after the
// handler chain has returned, so its adapter commits once, after the
// chain, and renders the Result onto fasthttp's response headers with
// Apply; WriteError is the default error response.
package fasthttpkit
