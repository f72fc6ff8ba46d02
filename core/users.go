package core

import (
	"context"
	"maps"
	"sort"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// SessionInfo describes one of a user's sessions, for a "where you're
// logged in" page; it renders as that page's JSON as it is (times in RFC
// 3339). ID is the store ID: opaque, safe to show, and what RevokeSession
// takes; it is not the token.
type SessionInfo struct {
	ID string `json:"id"`
	// Current marks the session of the request that listed them
	// (Session.Sessions); always false from Manager.ListSessions.
	Current   bool      `json:"current"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	// ExpiresAt is when the session ends unless used: the earlier of its
	// idle and absolute deadlines.
	ExpiresAt time.Time `json:"expires_at"`
	UserAgent string    `json:"user_agent"`
	IP        string    `json:"ip"`
	// Label, Remembered and Metadata are what the login chose (see
	// LoginOptions).
	Label      string            `json:"label"`
	Remembered bool              `json:"remembered"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	// UserID is the user the session is bound to. It is not rendered: a
	// user's own page knows it, and an administrator's walk
	// (Manager.AllSessions) reads it here.
	UserID string `json:"-"`
}

// info is the listing of the store entry e.
func (m *Manager) info(e *store.Entry) SessionInfo {
	return SessionInfo{
		ID:         e.ID,
		CreatedAt:  e.Meta.CreatedAt,
		LastSeen:   e.Meta.LastSeen,
		ExpiresAt:  e.Meta.Deadline(m.cfg.IdleTimeout),
		UserAgent:  e.Meta.UserAgent,
		IP:         e.Meta.IP,
		Label:      e.Meta.Label,
		Remembered: e.Meta.Remembered,
		// A copy: the store's map is read-only, the listing is the app's.
		Metadata: maps.Clone(e.Meta.Metadata),
		UserID:   e.Meta.UserID,
	}
}

// ListSessions returns the live sessions bound to userID, newest first,
// without reading their values.
func (m *Manager) ListSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	if userID == "" {
		return nil, nil
	}
	sctx, cancel := m.bounded(ctx)
	defer cancel()
	entries, err := m.store.ListUser(sctx, userID, m.cfg.Now())
	if err != nil {
		return nil, m.storeFailed(ctx, nil, "list", "", err)
	}
	out := make([]SessionInfo, 0, len(entries))
	for i := range entries {
		out = append(out, m.info(&entries[i]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// RevokeSession ends the session id if it is bound to userID, and reports
// whether it did. An id that is not the user's is left alone, so a user can
// only revoke their own sessions.
func (m *Manager) RevokeSession(ctx context.Context, userID, id string) (bool, error) {
	if userID == "" || !store.ValidID(id) {
		return false, nil
	}
	sctx, cancel := m.bounded(ctx)
	defer cancel()
	entries, err := m.store.ListUser(sctx, userID, m.cfg.Now())
	if err != nil {
		return false, m.storeFailed(ctx, nil, "list", "", err)
	}
	for i := range entries {
		if entries[i].ID != id {
			continue
		}
		existed, err := m.store.Delete(sctx, id)
		if err != nil {
			return false, m.storeFailed(ctx, nil, "delete", id, err)
		}
		if existed {
			m.emit(ctx, Event{Kind: EventRevoked, SessionID: id, UserID: userID})
		}
		return existed, nil
	}
	return false, nil
}

// RevokeAll ends every session bound to userID ("log out everywhere") except
// keepID, which may be empty, and returns how many it ended.
func (m *Manager) RevokeAll(ctx context.Context, userID, keepID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	sctx, cancel := m.bounded(ctx)
	defer cancel()
	ids, err := m.store.DeleteUser(sctx, userID, keepID)
	if err != nil {
		return 0, m.storeFailed(ctx, nil, "revoke", "", err)
	}
	m.evicted(ctx, nil, userID, ids)
	return len(ids), nil
}
