// Package core is the framework-agnostic heart of sessionkit: the Manager
// an application builds once (New, Config), the Session its handlers use
// (Put, Get, Lookup, Pop, Delete, Login, Renew, Destroy, and a user's
// Sessions, Revoke and RevokeOthers), events, errors, and the Store
// contract (defined in the leaf package core/store and aliased here).
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
