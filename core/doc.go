// Package core is the framework-agnostic heart of sessionkit: the Manager
// that loads and commits sessions, the Session handlers use, tokens, the
// cookie and header transports, events, and the Store contract (defined in
// the leaf package core/store and aliased here).
//
// Adapters (sessionhttp, sessiongin, sessionecho, sessionfiber) run every
// request through the same four steps, in their framework's own types:
//
//  1. Read the token: the session cookie or Authorization: Bearer, never the
//     URL or a form (Request).
//  2. Load: Manager.Load checks the token's shape before any store call,
//     looks the session up by the token's SHA-256, checks the idle and
//     absolute deadlines, and returns a Session. A missing, malformed,
//     unknown or expired token gives a new, empty, unsaved session: a
//     client's token is never adopted (strict mode).
//  3. Inject: the session goes into the framework's context and into the
//     request's context.Context (NewContext), where service code finds it
//     with FromContext.
//  4. Commit: Manager.Commit, just before the response headers go out,
//     writes what changed and returns the cookie or header to send.
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
package core
