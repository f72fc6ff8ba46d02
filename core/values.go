package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/core/store"
)

// Get returns the value under key decoded as a T, and whether there was
// one that decodes as a T. Use Lookup to tell absence from a decode error.
func Get[T any](s *Session, key string) (T, bool) {
	v, err := Lookup[T](s, key)
	return v, err == nil
}

// Lookup returns the value under key decoded as a T. The error is ErrNoValue
// when the key is absent and wraps ErrDecode when the value is not a T.
// Only this key is decoded: a session's other values cost nothing.
func Lookup[T any](s *Session, key string) (T, error) {
	s.mu.Lock()
	b, ok := s.raw(key)
	s.mu.Unlock()
	if !ok {
		var zero T
		return zero, ErrNoValue
	}
	v, err := decodeValue[T](b)
	if err != nil {
		return v, fmt.Errorf("key %q: %w", key, err)
	}
	return v, nil
}

// Pop returns the value under key decoded as a T and deletes it: a flash
// message, read once. For a stored session the delete is made in the
// store at once, atomically, so of concurrent requests popping one key
// exactly one gets the value; the others get ErrNoValue. A key put in this
// request and not yet committed is popped locally.
//
// The error is ErrNoValue when the key is absent, wraps ErrDecode when the
// value is not a T (the value is gone all the same), and wraps ErrStore
// when the store failed (the value is then left where it was).
func Pop[T any](ctx context.Context, s *Session, key string) (T, error) {
	var zero T
	b, err := s.take(ctx, key)
	if err != nil {
		return zero, err
	}
	v, err := decodeValue[T](b)
	if err != nil {
		return v, fmt.Errorf("key %q: %w", key, err)
	}
	return v, nil
}

// take removes key for Pop: locally when the value is this request's own,
// else from the store in one atomic step.
func (s *Session) take(ctx context.Context, key string) ([]byte, error) {
	sctx, cancel := s.m.bounded(ctx)
	defer cancel()
	s.mu.Lock()
	b, failure, err := s.takeLocked(sctx, key)
	s.mu.Unlock()
	if failure != nil {
		s.m.emit(ctx, *failure)
	}
	return b, err
}

// takeLocked is take with mu held; a store failure comes back as the event
// to emit once mu is released.
func (s *Session) takeLocked(ctx context.Context, key string) ([]byte, *Event, error) {
	s.read = true
	if b, ok := s.set[key]; ok {
		s.forget(key)
		delete(s.set, key)
		if _, stored := s.base[key]; stored && !s.cleared {
			s.markDeleted(key)
		}
		return b, nil, nil
	}
	if _, ok := s.raw(key); !ok || s.id == "" {
		return nil, nil, ErrNoValue
	}
	opts := store.LoadOptions{Now: s.m.cfg.Now(), Idle: s.m.cfg.IdleTimeout}
	id := s.id
	b, ok, err := s.m.store.Take(ctx, id, key, opts)
	var moved *store.ErrRenewed
	if errors.As(err, &moved) && moved.Successor != "" {
		// Rotated since this request loaded it: the value moved along.
		id = moved.Successor
		b, ok, err = s.m.store.Take(ctx, id, key, opts)
	}
	switch {
	case err == nil:
	case gone(err), errors.As(err, &moved):
		ok = false // the session is gone, and its values with it
	default:
		err = storeError("take", id, err)
		return nil, &Event{Kind: EventStoreError, SessionID: id, Err: err}, err
	}
	s.forget(key)
	if s.taken == nil {
		s.taken = make(map[string]struct{}, 1)
	}
	s.taken[key] = struct{}{}
	if !ok {
		return nil, nil, ErrNoValue
	}
	return b, nil, nil
}
