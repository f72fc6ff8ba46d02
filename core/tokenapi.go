package core

import (
	"context"
	"fmt"
)

// The token-level API serves transports that are not HTTP middleware: a
// WebSocket's messages, gRPC metadata, a JSON-RPC or MCP tool-call server,
// a line protocol. The client holds the token (as it would a bearer token)
// and sends it with each call. Each function is a Load and a Commit, the
// middleware's own code path, so every check applies alike: the token's
// shape, the idle and absolute deadlines, strict mode (an unknown token is
// never adopted), the binding, the bounds, rotation, events and logs.
//
// A token is a secret: keep it out of logs and URLs, as the manager does.

// LoadToken loads the session a token names, as Load does for a request
// that carried it: an empty, malformed, unknown or expired token gives a
// new, empty, unsaved session. c is the client making the call, for the
// binding and for what a login records. Save the session with SaveToken
// once, when done, as a request commits once.
func (m *Manager) LoadToken(ctx context.Context, token string, c Client) (*Session, error) {
	return m.Load(ctx, &Request{Token: token, UserAgent: c.UserAgent, RemoteAddr: c.IP})
}

// SaveToken commits a session loaded by LoadToken and returns the token
// the client must use from then on: the one it sent, a new one (a new
// session, a login, a renewal or a rotation), or "" once the session is
// destroyed or was never stored. Errors are Commit's (ErrStore on a store
// failure).
func (m *Manager) SaveToken(ctx context.Context, s *Session) (string, error) {
	if _, err := m.Commit(ctx, s); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, nil
}

// IssueToken creates a session logged in as userID with opts (see
// LoginWith), for client c, and returns its token.
func (m *Manager) IssueToken(ctx context.Context, userID string, opts LoginOptions, c Client) (string, error) {
	if userID == "" {
		return "", fmt.Errorf("%w: an empty user id", ErrLoginOptions)
	}
	s, err := m.LoadToken(ctx, "", c)
	if err != nil {
		return "", err
	}
	if err := s.LoginWith(userID, opts); err != nil {
		return "", err
	}
	return m.SaveToken(ctx, s)
}

// ValidateToken returns the live session a token names, for reading (and
// changing, then SaveToken). A token that names none (empty, malformed,
// unknown, expired, revoked, or presented by a client its binding refuses)
// is an error wrapping ErrInvalidToken.
func (m *Manager) ValidateToken(ctx context.Context, token string, c Client) (*Session, error) {
	s, err := m.LoadToken(ctx, token, c)
	if err != nil {
		return nil, err
	}
	if s.IsNew() {
		return nil, fmt.Errorf("%w: no live session", ErrInvalidToken)
	}
	return s, nil
}

// RefreshToken extends the idle deadline of the session a token names, as
// a request past the touch window would, but at once: the session's
// LastSeen becomes now. It returns the token to use from then on (a new
// one when a rotation was due).
func (m *Manager) RefreshToken(ctx context.Context, token string, c Client) (string, error) {
	s, err := m.ValidateToken(ctx, token, c)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.touch = true
	s.mu.Unlock()
	return m.SaveToken(ctx, s)
}

// DestroyToken ends the session a token names (a logout). A token that
// names none is an error wrapping ErrInvalidToken.
func (m *Manager) DestroyToken(ctx context.Context, token string, c Client) error {
	s, err := m.ValidateToken(ctx, token, c)
	if err != nil {
		return err
	}
	s.Destroy()
	_, err = m.SaveToken(ctx, s)
	return err
}
