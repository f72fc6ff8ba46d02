package core

import (
	"context"
	"errors"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// Commit saves what the request changed and says what the response must
// carry (Adapter API: the adapter's step 4). An adapter that sees the
// header moment calls it twice: just before the response headers are first
// written, where it sends the Result, and once more when the handler has
// returned, where the Result is ignored (an adapter that writes the headers
// itself after the handler, as Fiber's does, calls it once then).
//
// The second call saves changes made after the headers went out when the
// token does not need to change. A change that needs a new token (a new
// session, Renew, Login, a Destroy followed by new values) can no longer be
// delivered then: it is dropped and reported as EventWriteDropped with
// ErrHeadersWritten, and returned, never lost silently.
//
// A store failure is returned wrapping ErrStore; before the headers went
// out the adapter answers it with its error handler (503 by default).
func (m *Manager) Commit(ctx context.Context, s *Session) (Result, error) {
	s.mu.Lock()
	late := s.sent
	res, err := m.commit(ctx, s)
	if s.read && !late && res.Vary == "" {
		res.Vary = m.cfg.Transport.vary()
	}
	// The queue is copied out, so that a commit of this session from
	// another goroutine (a late write) cannot overwrite it while it is read.
	var first [1]Event
	events := append(first[:0], s.events...)
	s.events = nil
	s.mu.Unlock()
	// Hooks run after the unlock: one that reaches the session (through
	// FromContext) or the manager must not find the session's lock held.
	for _, e := range events {
		m.emit(ctx, e)
	}
	return res, err
}

// commit does Commit's work with s.mu held; its events wait in s.events.
func (m *Manager) commit(ctx context.Context, s *Session) (Result, error) {
	var res Result
	late := s.sent
	s.sent = true
	if s.doomed == "" && !s.dirty() && (late || s.id == "" || m.cfg.RotateAfter == 0) {
		// The common read-only request: nothing to write, no rotation to
		// check, so not even the clock is read, nor a timer started.
		if s.stale && !late {
			s.stale = false
			m.clear(&res)
		}
		return res, nil
	}
	if s.stale && !late {
		// Cleared now; a new token issued below replaces the clearing
		// cookie.
		s.stale = false
		m.clear(&res)
	}
	ctx, cancel := m.bounded(ctx)
	defer cancel()
	now := m.cfg.Now()

	if s.doomed != "" {
		if _, err := m.store.Delete(ctx, s.doomed); err != nil {
			return res, m.storeFailed(ctx, s, "delete", s.doomed, err)
		}
		s.note(Event{Kind: EventDestroyed, SessionID: s.doomed})
		s.doomed = ""
		if !late {
			m.clear(&res)
		}
	}

	if s.id == "" {
		// Deleting keys of, or renewing, a session that was never stored
		// leaves nothing worth storing; values or a login do.
		if len(s.set) == 0 && s.meta.UserID == "" {
			return res, nil
		}
		if late {
			return res, m.dropped(ctx, s, ErrHeadersWritten)
		}
		return m.create(ctx, s, now)
	}

	if s.renew {
		if late {
			return res, m.dropped(ctx, s, ErrHeadersWritten)
		}
		if s.forwarded {
			// A token rotated away still reads and writes for its grace
			// window, so requests in flight succeed; a renewal through it
			// would hand its holder a fresh token and kill the successor
			// the legitimate client now holds. Whoever holds the old
			// token, it is not the one to log in with.
			return res, m.dropped(ctx, s, ErrRenewForwarded)
		}
		return m.renew(ctx, s, now)
	}
	if !late && m.cfg.RotateAfter > 0 && now.Sub(s.meta.IssuedAt) >= m.cfg.RotateAfter {
		return m.rotate(ctx, s, now)
	}
	if !s.dirty() {
		return res, nil
	}
	return res, m.update(ctx, s, now)
}

// update writes the pending changes to the stored session. A session
// rotated meanwhile is followed to its successor once; one destroyed,
// revoked or renewed away is never written back into existence. mu held.
func (m *Manager) update(ctx context.Context, s *Session, now time.Time) error {
	err := m.store.Update(ctx, s.id, s.change(now, nil))
	var moved *store.ErrRenewed
	if errors.As(err, &moved) && moved.Successor != "" {
		s.id = moved.Successor
		err = m.store.Update(ctx, s.id, s.change(now, nil))
	}
	switch {
	case err == nil:
		s.meta.LastSeen = now
		s.settle()
		return nil
	case gone(err), errors.As(err, &moved):
		return m.dropped(ctx, s, ErrSessionGone)
	default:
		return m.storeFailed(ctx, s, "update", s.id, err)
	}
}

// create stores a new session under a fresh token. mu held.
func (m *Manager) create(ctx context.Context, s *Session, now time.Time) (Result, error) {
	var res Result
	meta := s.meta
	meta.CreatedAt, meta.IssuedAt, meta.LastSeen = now, now, now
	meta.ExpiresAt = now.Add(m.lifetime(&meta))
	rec := Record{Meta: meta, Values: s.values()}
	opts := store.WriteOptions{Now: now, Idle: m.cfg.IdleTimeout, MaxPerUser: max(m.cfg.MaxSessionsPerUser, 0)}
	for attempt := 0; ; attempt++ {
		token, cookie, err := newIssued(m.cfg.Rand, m.cfg.Transport.cookie())
		if err != nil {
			s.note(Event{Kind: EventWriteDropped, Err: err})
			return res, err
		}
		id := hashToken(token)
		evicted, err := m.storeCreate(ctx, id, &rec, opts)
		if errors.Is(err, store.ErrExists) && attempt == 0 {
			continue // 2^-256; a second collision means the source is broken
		}
		if err != nil {
			return res, m.storeFailed(ctx, s, "create", id, err)
		}
		s.note(Event{Kind: EventCreated, SessionID: id, UserID: meta.UserID})
		m.evicted(ctx, s, meta.UserID, evicted)
		s.id, s.token, s.meta = id, token, meta
		s.settle()
		res.Cookie = nil
		m.issue(&res, token, cookie, &meta, now)
		return res, nil
	}
}

// storeCreate is m.store.Create. The in-memory store is called as its
// concrete type, which keeps rec on the caller's stack: through the
// interface it would escape, one allocation per new session.
func (m *Manager) storeCreate(ctx context.Context, id string, rec *Record, opts store.WriteOptions) ([]string, error) {
	if m.mem != nil {
		return m.mem.Create(ctx, id, rec, opts)
	}
	r := *rec // only this copy escapes
	return m.store.Create(ctx, id, &r, opts)
}

// renew moves the session to a fresh token at once (Renew, Login). mu held.
func (m *Manager) renew(ctx context.Context, s *Session, now time.Time) (Result, error) {
	var res Result
	meta := s.meta
	meta.IssuedAt, meta.LastSeen = now, now
	if meta.ExpiresAt.IsZero() { // Login starts the lifetime again
		meta.ExpiresAt = now.Add(m.lifetime(&meta))
	}
	token, cookie, err := newIssued(m.cfg.Rand, m.cfg.Transport.cookie())
	if err != nil {
		s.note(Event{Kind: EventWriteDropped, SessionID: s.id, Err: err})
		return res, err
	}
	oldID, newID := s.id, hashToken(token)
	opts := store.WriteOptions{Now: now, Idle: m.cfg.IdleTimeout, MaxPerUser: max(m.cfg.MaxSessionsPerUser, 0)}
	evicted, err := m.store.Renew(ctx, oldID, newID, s.change(now, &meta), opts)
	var lost *store.ErrRenewed
	switch {
	case err == nil:
		s.note(Event{Kind: EventRenewed, SessionID: oldID, Successor: newID, UserID: meta.UserID})
		m.evicted(ctx, s, meta.UserID, evicted)
		s.id, s.token, s.meta = newID, token, meta
		s.settle()
		m.issue(&res, token, cookie, &meta, now)
		return res, nil
	case gone(err), errors.As(err, &lost):
		// Revoked, destroyed or renewed by another request meanwhile.
		// Carrying its values into a new session would undo a revocation
		// (an app may keep its own auth state in values), so the renewal is
		// dropped. The cookie is left alone: if a concurrent login won, the
		// client should keep the token it got.
		return res, m.dropped(ctx, s, ErrSessionGone)
	default:
		return res, m.storeFailed(ctx, s, "renew", oldID, err)
	}
}

// CommitHeadersGone commits as though the response headers had already
// been written (Adapter API), for a response that will never carry them (a
// hijacked connection): changes that keep the token are saved; a change
// that needs a new token is dropped and reported, and no rotation starts,
// so no token is issued that the client could never receive.
func (m *Manager) CommitHeadersGone(ctx context.Context, s *Session) error {
	s.mu.Lock()
	s.sent = true
	s.mu.Unlock()
	_, err := m.Commit(ctx, s)
	return err
}

// rotate gives the session a new token while the old one keeps working for
// the grace window. Of concurrent rotations exactly one wins; the others
// write their changes to the winner's record. mu held.
func (m *Manager) rotate(ctx context.Context, s *Session, now time.Time) (Result, error) {
	var res Result
	meta := s.meta
	meta.IssuedAt, meta.LastSeen = now, now
	token, cookie, err := newIssued(m.cfg.Rand, m.cfg.Transport.cookie())
	if err != nil {
		s.note(Event{Kind: EventWriteDropped, SessionID: s.id, Err: err})
		return res, err
	}
	oldID, newID := s.id, hashToken(token)
	opts := store.WriteOptions{Now: now, Idle: m.cfg.IdleTimeout, Grace: m.cfg.RotateGrace}
	_, err = m.store.Renew(ctx, oldID, newID, s.change(now, &meta), opts)
	var lost *store.ErrRenewed
	switch {
	case err == nil:
		s.note(Event{Kind: EventRotated, SessionID: oldID, Successor: newID, UserID: meta.UserID})
		s.id, s.token, s.meta = newID, token, meta
		s.settle()
		m.issue(&res, token, cookie, &meta, now)
		return res, nil
	case errors.As(err, &lost) && lost.Successor != "":
		// Another request rotated first and sent the new token; this one
		// writes to the winner's record.
		s.id = lost.Successor
		if !s.dirty() {
			return res, nil
		}
		return res, m.update(ctx, s, now)
	case gone(err), errors.As(err, &lost):
		return res, m.dropped(ctx, s, ErrSessionGone)
	default:
		return res, m.storeFailed(ctx, s, "rotate", oldID, err)
	}
}

// lifetime is the absolute lifetime a session with meta gets at creation
// or login.
func (m *Manager) lifetime(meta *Meta) time.Duration {
	if meta.Remembered {
		return m.cfg.RememberLifetime
	}
	return m.cfg.Lifetime
}

// dropped reports a change that cannot be saved and forgets it, so a later
// commit does not try again. mu held.
func (m *Manager) dropped(ctx context.Context, s *Session, why error) error {
	s.note(Event{Kind: EventWriteDropped, SessionID: s.id, UserID: s.meta.UserID, Err: why})
	s.set, s.del, s.cleared, s.renew, s.touch = nil, nil, false, false, false
	if errors.Is(why, ErrSessionGone) || errors.Is(why, ErrRenewForwarded) {
		return nil // an outcome of someone else's action, not a failure of this request
	}
	return why
}

// storeFailed wraps a store failure and reports it: into s's queue when s
// is locked by a commit, else at once.
func (m *Manager) storeFailed(ctx context.Context, s *Session, op, id string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) && errors.Is(err, context.Canceled) {
		// The client went away; that is not the store's fault, but the
		// write did not happen, so it is still an error. A deadline that ran
		// out waiting for the store is the store's failure (503).
		return err
	}
	err = storeError(op, id, err)
	m.report(ctx, s, Event{Kind: EventStoreError, SessionID: id, Err: err})
	return err
}

func (m *Manager) evicted(ctx context.Context, s *Session, userID string, ids []string) {
	for _, id := range ids {
		m.report(ctx, s, Event{Kind: EventRevoked, SessionID: id, UserID: userID})
	}
}

// report emits e now, or queues it on s when s is locked by a commit.
func (m *Manager) report(ctx context.Context, s *Session, e Event) {
	if s != nil {
		s.note(e)
		return
	}
	m.emit(ctx, e)
}

// gone reports whether a write found its session no longer there: deleted
// or renewed away (ErrNotFound), or past its deadline since the request
// loaded it (ErrExpired, which the contract lets a store say instead).
// Either is the session's end, not a store failure.
func gone(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExpired)
}
