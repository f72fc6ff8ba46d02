// Package core is the framework-agnostic heart of sessionkit: the Manager
// an application builds once (New, Config), the Session its handlers use
// (Put, Get, Lookup, Pop, Delete, Login and LoginWith, Renew, Destroy, and
// a user's Sessions, Revoke and RevokeOthers), the token-level API for
// transports that are not HTTP, events, errors, and the Store contract
// (defined in the leaf package core/store and aliased here).
//
// A handler gets its session from its framework's adapter (sessionhttp,
// sessiongin, sessionecho, sessionechov5, sessionfiber, sessionfiberv3:
// each has From), and service code deeper down from the request's context
// with FromContext; the session is saved, and its cookie sent, by the
// adapter, just before the response headers go out.
//
// # Session semantics
//
// Sessions are lazy: a request that writes nothing creates nothing and sends
// no cookie. Tokens are 32 bytes from crypto/rand in base64url; the store
// only ever sees their SHA-256, and so do logs and events. Values are
// encoded one key at a time without gob registration: a read decodes only
// the keys a handler asks for, a write sends only the changed keys, so
// concurrent requests that write different keys of one session both
// survive (for the same key, the last writer wins).
//
// A session ends after IdleTimeout without activity or Lifetime after it was
// created or last logged in, whichever comes first, enforced by the server.
// Activity extends the idle deadline only once a quarter of the window has
// passed, so a read-only request inside that part writes nothing at all.
// The store does the extension as part of Load: the in-memory store under
// the same lock as the read, the Redis store as a second step after its
// plain read, only when due (see their package docs for the cost).
//
// Session.Renew (and Login, which also binds a user) issues a new token at
// commit and kills the old one at once. Periodic rotation (RotateAfter)
// issues a new token while the old one keeps working for RotateGrace;
// exactly one of many concurrent requests rotates. Session.Destroy deletes
// the record and clears the cookie, and a request still in flight for a
// destroyed or revoked session never writes it back into existence.
//
// A token that a rotation replaced moments ago (in its grace window) still
// reads and writes the successor, but never renews it: a Login or Renew
// through it is dropped (ErrRenewForwarded). Destroying the session
// through it deletes the successor too. Pop takes a value from the store
// at once, so of concurrent requests exactly one gets a flash message.
//
// # Logging in
//
// LoginWith takes what the user chose for this session (LoginOptions):
// Remember gives it Config.RememberLifetime and RememberIdleTimeout (30
// and 7 days by default) instead of Lifetime and IdleTimeout, and a cookie
// with Max-Age and Expires for the lifetime left, so it survives a browser
// restart; without it the cookie ends with the browser. Renewal and
// rotation keep the choice; the next login makes it again. Label (a name
// the user sees, "Work laptop") and Metadata (the application's strings)
// are validated and bounded, and come back in listings (SessionInfo,
// which renders as a "where you're logged in" page's JSON) and from the
// Session; they are never values.
//
// Config.Binding ties a logged-in session to the client it logged in from
// (BindUserAgent, or a fingerprint the application computes). A load of
// the session by a client with another fingerprint revokes it for
// everyone and serves the request as anonymous (EventBindingMismatch).
// It is defence in depth against a cookie stolen and replayed elsewhere,
// never authentication: whatever a thief can observe, a thief can copy.
//
// # Outside HTTP
//
// A WebSocket's messages, gRPC metadata or a tool-call server carry the
// token themselves. Manager.IssueToken, ValidateToken, RefreshToken and
// DestroyToken, and the LoadToken/SaveToken pair beneath them, run the
// middleware's own Load and Commit on a bare token, with every check
// (shape, deadlines, strict mode, binding, bounds, rotation, events); see
// examples/tokenapi. Manager.AllSessions walks every session in a store
// that implements store.Walker, for an administrator.
//
// # Bounds
//
// Whatever a client without credentials can grow is bounded, with
// defaults: a session's values (MaxKeys 256, MaxValueBytes 128 KiB; Put
// past them is ErrTooLarge), the sessions of one user (MaxSessionsPerUser
// 64; a login past it evicts the oldest), how long a store call may hold a
// request (StoreTimeout 3 s), and the embedded in-memory store itself
// (see package memstore: it evicts least recently used anonymous sessions
// first when full).
//
// # Caching
//
// A response that sets a token carries Cache-Control: no-store and Vary;
// one whose handler only read the session carries Vary (Cookie, or
// Authorization in header transport) and Cache-Control: private, so no
// shared cache hands one user's page to another.
//
// Changes made after the response headers went out are saved when the
// request ends if the token does not need to change; a change that needs a
// new token (a new session, a renewal) can no longer be delivered, so it is
// dropped and reported (EventWriteDropped, ErrHeadersWritten), never lost
// silently.
//
// # Failures
//
// A store failure is never turned into an anonymous session: Load and
// Commit return an error wrapping ErrStore, and adapters answer it with
// their error handler (503 by default). Every error is typed for errors.Is.
//
// A cookie whose token names no session (malformed, unknown, expired,
// revoked) is cleared by the response, so the browser stops sending it;
// the log lines such tokens cause are limited to 20 per 10 seconds (the
// event hook still sees each).
//
// # Writing an adapter
//
// The rest of the exported API is for adapter authors, not handlers: the
// Adapter API. Go has no friend packages, so it lives here, kept to these
// names, each marked "Adapter API" in its doc: Request and ClientSource
// (what an adapter hands the manager), Manager.Load, NewContext and
// ContextKey (where the session goes), Manager.Commit and
// Manager.CommitHeadersGone, and Result (what the response must carry).
// Package adapterkit builds on them: its doc walks through the four steps
// every adapter runs for a request,
//
//  1. read the token's headers into a Request,
//  2. Load (a missing, malformed, unknown or expired token gives a new,
//     empty, unsaved session: a client's token is never adopted),
//  3. inject the session (NewContext, and the framework's own context),
//  4. Commit just before the response headers go out, and render the
//     Result,
//
// and has the commit-once state machine and the wrapped writer every
// adapter in this repository uses; adapters/adaptertest proves an adapter.
package core
