package core

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// Manager loads and commits sessions. Build one per application with New
// and share it; it is safe for concurrent use.
type Manager struct {
	cfg        Config
	store      Store
	touchAfter time.Duration
	ownStore   *memstore.Store
	// mem is the store when it is the in-memory one (ownStore or the
	// caller's): called as its concrete type, its arguments need not
	// escape to the heap.
	mem *memstore.Store
	// timeout bounds each store call on the request path; zero for none.
	timeout time.Duration
	// clientLines limits the log lines clients can cause (see loglimit.go).
	clientLines logLimiter
	// keys interns the keys of Put (see keys.go).
	keys *keyTable
}

// New builds a Manager from cfg, filling defaults and rejecting settings
// that are invalid or unsafe (errors.Is(err, ErrConfig)).
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, store: cfg.Store, keys: newKeyTable()}
	if m.store == nil {
		mo := cfg.Memory
		appOnEvict := mo.OnEvict
		mo.OnEvict = func(id, userID string) {
			// The store calls this with no lock held, so the hook may use
			// the manager.
			m.emit(context.Background(), Event{Kind: EventEvicted, SessionID: id, UserID: userID})
			if appOnEvict != nil {
				appOnEvict(id, userID)
			}
		}
		m.ownStore = memstore.New(mo)
		m.store = m.ownStore
	}
	// Extending the idle deadline on every request would cost a store write
	// each time; extending it once a quarter of the window has passed keeps
	// the session alive within 25% of the configured timeout.
	m.touchAfter = cfg.IdleTimeout / touchFractionOfIdle
	m.mem, _ = m.store.(*memstore.Store)
	if m.mem == nil && cfg.StoreTimeout > 0 {
		// A timer costs allocations on every call; the in-memory store
		// answers at once and needs none.
		m.timeout = cfg.StoreTimeout
	}
	return m, nil
}

// bounded returns ctx limited to the store timeout, unless its own
// deadline comes sooner.
func (m *Manager) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.timeout <= 0 {
		return ctx, noCancel
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= m.timeout {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, m.timeout)
}

func noCancel() {}

// Close releases what the manager started itself (the default in-memory
// store's janitor). A store passed in Config is the caller's to close.
func (m *Manager) Close() error {
	if m.ownStore != nil {
		return m.ownStore.Close()
	}
	return nil
}

// Config returns the manager's configuration, defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

// Load returns the request's session (Adapter API: the adapter's step 2,
// before the handler runs). A missing, malformed, unknown or
// expired token gives a new, empty, unsaved session, never one that adopts
// the client's token. The error is non-nil only when the store failed
// (errors.Is(err, ErrStore)); the adapter must not serve the request as
// anonymous then.
func (m *Manager) Load(ctx context.Context, r *Request) (*Session, error) {
	s := &Session{m: m, now: m.cfg.Now(), client: r.Client,
		reqUA: r.UserAgent, reqAddr: r.RemoteAddr, reqXFF: r.ForwardedFor}
	token, presented, fromCookie, err := m.tokenFrom(r)
	if !presented {
		return s, nil
	}
	// Until the token proves good, the response clears the cookie that
	// brought it: a browser would send a dead token forever otherwise. Not
	// when two cookies disagree: which of them the clearing cookie would
	// delete is the browser's choice, and it may be the good one.
	s.stale = fromCookie
	if err != nil {
		m.emit(ctx, Event{Kind: EventInvalidToken, Err: fmt.Errorf("%w: %w", ErrInvalidToken, err)})
		return s, nil
	}
	// The ID is hashed into a buffer on the stack: the session keeps the
	// string load returns, the in-memory store's own when it has the
	// session, so a request for a stored session allocates none for it.
	var idBuf [2 * sha256.Size]byte
	sctx, cancel := m.bounded(ctx)
	defer cancel()
	var rec Record
	id, err := m.load(sctx, hashTokenTo(&idBuf, token), s, &rec)
	if err == nil && rec.Successor != "" {
		// The token was rotated moments ago and is in its grace window: serve
		// the successor. Its new token went out with the rotating response.
		s.forwarded = true
		id, err = m.load(sctx, rec.Successor, s, &rec)
		if err == nil && rec.Successor != "" {
			err = store.ErrNotFound // forwarding is one hop, never a chain
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		m.emit(ctx, Event{Kind: EventInvalidToken, SessionID: id, Err: fmt.Errorf("%w: %w", ErrInvalidToken, errUnknownToken)})
		return s, nil
	case errors.Is(err, store.ErrExpired):
		m.emit(ctx, Event{Kind: EventExpired, SessionID: id})
		return s, nil
	case errors.Is(err, store.ErrCorrupt):
		// Data we cannot read is no session: not trusted, not an outage.
		m.emit(ctx, Event{Kind: EventInvalidToken, SessionID: id, Err: fmt.Errorf("%w: %w", ErrInvalidToken, err)})
		return s, nil
	default:
		err = storeError("load", id, err)
		m.emit(ctx, Event{Kind: EventStoreError, SessionID: id, Err: err})
		return nil, err
	}
	if rec.Meta.Binding != "" && rec.Meta.UserID != "" && m.cfg.Binding != nil {
		if bindingDigest(m.cfg.Binding(s.clientLocked())) != rec.Meta.Binding {
			return m.unbound(ctx, sctx, s, id, rec.Meta.UserID)
		}
	}
	s.stale = false
	s.id, s.token, s.meta, s.base = id, token, rec.Meta, rec.Values
	return s, nil
}

// unbound revokes a bound session presented by a client other than the
// one it logged in from, and serves the request as anonymous (s, fresh).
// The legitimate client loses the session too: the manager cannot tell
// which of the two holds the stolen copy.
func (m *Manager) unbound(ctx, sctx context.Context, s *Session, id, userID string) (*Session, error) {
	if _, err := m.store.Delete(sctx, id); err != nil {
		err = storeError("delete", id, err)
		m.emit(ctx, Event{Kind: EventStoreError, SessionID: id, Err: err})
		return nil, err
	}
	m.emit(ctx, Event{Kind: EventBindingMismatch, SessionID: id, UserID: userID})
	return s, nil
}

// load reads the record under id into rec. It returns the ID as a string
// the session may keep, whatever the outcome: the in-memory store's own
// when it has the record, else a copy (id may be in the caller's buffer).
func (m *Manager) load(ctx context.Context, id string, s *Session, rec *Record) (string, error) {
	opts := store.LoadOptions{Now: s.now, Idle: m.cfg.IdleTimeout, TouchAfter: m.touchAfter}
	var kept string
	var err error
	if m.mem != nil {
		// Called as its concrete type, so that neither id nor rec escapes.
		kept, err = m.mem.LoadInto(ctx, id, opts, rec)
		if err != nil {
			kept = strings.Clone(id)
		}
	} else {
		kept = strings.Clone(id)
		var r *Record
		if r, err = m.store.Load(ctx, kept, opts); err == nil {
			*rec = *r
		}
	}
	if err != nil {
		return kept, err
	}
	if rec.Successor == "" && !s.now.Before(rec.Meta.Deadline(m.cfg.IdleTimeout)) {
		// The store's clock and ours may differ; ours decides.
		return kept, store.ErrExpired
	}
	return kept, nil
}
