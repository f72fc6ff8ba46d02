// Package adapterkit is what a sessionkit adapter is built from: the pieces
// every adapter in this repository shares, public so that an adapter for a
// framework the repository does not cover (Hertz, Iris, a gRPC gateway) can
// be written against it and core alone, and proved with package
// adapters/adaptertest.
//
// An adapter runs each request through four steps, in its framework's own
// types (core's package doc has the rules behind each):
//
//  1. Read: fill a core.Request with the raw Cookie and Authorization
//     header values (Request does it for a net/http request). A framework
//     that reuses its request buffers (fasthttp) must pass copies.
//  2. Load: core.Manager.Load. A non-nil error is a store failure: answer
//     it (ErrorStatus, WriteError, or the framework's own error path) and
//     never run the handler.
//  3. Inject: core.NewContext into the context.Context the handler's
//     service code sees, and the session into the framework's own context,
//     for the adapter's From.
//  4. Commit: core.Manager.Commit at the last moment the response headers
//     can still change, then render its core.Result (Result.Apply for an
//     http.Header, Result.Headers for anything else; a framework that
//     copies header values into its own buffers can render the Set-Cookie
//     line into a reused one with Result.AppendSetCookie and take the rest
//     from Result.HeadersWithoutCookie, as fasthttpkit.Apply does).
//
// Commit is the commit-once state machine for adapters that see that
// moment (a write, a flush, a hijack), and Writer is an http.ResponseWriter
// wrapper driving it, with exactly the optional interfaces of the writer it
// wraps. ErrorReturn serves frameworks whose handlers return errors (Echo):
// a commit that fails after the handler returned is handed back as the
// middleware's error, one that fails while the handler writes is answered
// at once. An adapter whose framework writes the headers itself after the
// handler chain (Fiber) needs neither: it calls Commit once after the chain.
package adapterkit
