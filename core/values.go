package core

import "fmt"

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

// Pop returns the value under key, as Get does, and deletes it: a flash
// message read once.
func Pop[T any](s *Session, key string) (T, bool) {
	v, ok := Get[T](s, key)
	if ok {
		s.Delete(key)
	}
	return v, ok
}
