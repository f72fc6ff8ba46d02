package core

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// Session is one client's session for the length of a request. Handlers
// change it freely; nothing reaches the store until the adapter commits it,
// just before the response headers go out. A Session is safe for use by the
// goroutines a handler starts, but it belongs to its request: do not keep it
// past the response.
type Session struct {
	m   *Manager
	mu  sync.Mutex
	now time.Time
	ctx sessionContext // see NewContext

	// id is the store ID (token hash); empty while the session is unsaved.
	id    string
	token string // the client's token; never logged, never stored
	meta  Meta

	// base is the stored values as loaded: owned by the store, read-only.
	// Handler changes live beside it until committed.
	base    map[string][]byte
	set     map[string][]byte
	del     map[string]struct{}
	cleared bool
	// taken holds the stored keys Pop removed from the store directly: gone
	// from base without a write at commit.
	taken map[string]struct{}
	// keys and size are the footprint the caps check, once sized.
	keys, size int
	sized      bool

	renew  bool   // Renew or Login: issue a new token at commit
	doomed string // ID that Destroy asked to delete at commit
	sent   bool   // the first commit has run; headers are gone
	read   bool   // the handler looked at the session: the response depends on the token
	// stale: the client presented a token that named no session it may
	// use; the response clears its cookie unless it issues a new one.
	stale bool
	touch bool // RefreshToken: write LastSeen even with nothing else to write
	// forwarded: the client's token was rotated away and is in its grace
	// window. Such a token may finish what it was doing, never renew.
	forwarded bool
	// events wait here while a commit holds mu (see Commit); evbuf holds
	// the first, so the usual one event of a commit costs no allocation.
	events []Event
	evbuf  [1]Event
	// The client's details, recorded at Login (see Request.Client).
	client  ClientSource
	reqUA   string
	reqAddr string
	reqXFF  string
}

// ID is the session's store ID: the SHA-256 of its token, hex. It is safe to
// log and to show as the opaque id in a list of sessions. Empty until the
// session is first saved.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return s.id
}

// IsNew reports whether the session is not stored yet.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return s.id == ""
}

// UserID is the user the session is bound to by Login; empty if none.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return s.meta.UserID
}

// CreatedAt is when the session was first created (zero while unsaved).
func (s *Session) CreatedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return s.meta.CreatedAt
}

// LastSeen is the last recorded activity. It is coarse: it moves only
// once a quarter of the idle timeout has passed, to spare the store a write
// on every request.
func (s *Session) LastSeen() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return s.meta.LastSeen
}

// ExpiresAt is when the session will end unless it sees activity: the
// earlier of its idle and absolute deadlines.
func (s *Session) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	if s.id == "" {
		return time.Time{}
	}
	return s.meta.Deadline(s.m.cfg.IdleTimeout)
}

// Put stores v under key. The value is encoded at once, so changing v
// afterwards changes nothing. It fails for values that cannot be encoded
// (ErrEncode), and with ErrTooLarge when the session would hold more keys
// or bytes than Config.MaxKeys and Config.MaxValueBytes allow; either way
// nothing is stored.
func (s *Session) Put(key string, v any) error {
	b, err := encodeValue(v)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fits(key, b); err != nil {
		return err
	}
	// The store keeps the key; it may point into a request buffer that the
	// framework reuses (fasthttp), so it is copied, or the manager's
	// shared copy of it taken (see keyTable).
	key = s.m.keys.intern(key)
	if s.set == nil {
		s.set = make(map[string][]byte, 4)
	}
	s.set[key] = b
	delete(s.del, key)
	delete(s.taken, key)
	return nil
}

// fits checks that putting b under key keeps the session within its caps,
// and accounts for it if so. mu held.
func (s *Session) fits(key string, b []byte) error {
	keys, size := s.footprint()
	if old, ok := s.value(key); ok {
		size -= len(old)
	} else {
		keys++
		size += len(key)
	}
	size += len(b)
	cfg := &s.m.cfg
	if cfg.MaxKeys > 0 && keys > cfg.MaxKeys {
		return fmt.Errorf("%w: %d keys, more than MaxKeys %d", ErrTooLarge, keys, cfg.MaxKeys)
	}
	if cfg.MaxValueBytes > 0 && size > cfg.MaxValueBytes {
		return fmt.Errorf("%w: %d bytes, more than MaxValueBytes %d", ErrTooLarge, size, cfg.MaxValueBytes)
	}
	s.keys, s.size = keys, size
	return nil
}

// footprint is the number of keys and the bytes of keys and values the
// handler sees now. It is counted once per request, at the first Put, and
// kept up to date from then on. mu held.
func (s *Session) footprint() (keys, size int) {
	if s.sized {
		return s.keys, s.size
	}
	s.visible(func(k string, b []byte) {
		keys++
		size += len(k) + len(b)
	})
	s.keys, s.size, s.sized = keys, size, true
	return keys, size
}

// forget takes key out of the footprint when it is removed. mu held.
func (s *Session) forget(key string) {
	if !s.sized {
		return
	}
	if b, ok := s.value(key); ok {
		s.keys--
		s.size -= len(key) + len(b)
	}
}

// Delete removes key. Removing an absent key is not an error and, for a
// session that is not stored yet, creates nothing.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(key)
	delete(s.set, key)
	if _, ok := s.base[key]; ok && !s.cleared {
		s.markDeleted(key)
	}
}

// markDeleted records that key, stored, is deleted at commit. mu held.
func (s *Session) markDeleted(key string) {
	if s.del == nil {
		s.del = make(map[string]struct{}, 2)
	}
	s.del[key] = struct{}{}
}

// Clear removes every value. Keys that other requests add meanwhile are
// removed too: Clear wins over concurrent writes to the same session.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set, s.del = nil, nil
	s.cleared = true
	s.keys, s.size, s.sized = 0, 0, true
}

// Has reports whether the session holds a value under key.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	_, ok := s.raw(key)
	return ok
}

// Keys returns the keys the session holds, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	keys := s.keysLocked()
	sort.Strings(keys)
	return keys
}

// keysLocked returns the keys the handler sees now, unsorted. mu held.
func (s *Session) keysLocked() []string {
	keys := make([]string, 0, len(s.base)+len(s.set))
	s.visible(func(k string, _ []byte) { keys = append(keys, k) })
	return keys
}

// visible calls fn for each key and value the handler sees now: the
// pending writes, then the stored values not overwritten, deleted, popped
// or cleared. It allocates nothing. mu held.
func (s *Session) visible(fn func(key string, value []byte)) {
	for k, b := range s.set {
		fn(k, b)
	}
	if s.cleared {
		return
	}
	for k, b := range s.base {
		if _, dup := s.set[k]; dup {
			continue
		}
		if _, gone := s.del[k]; gone {
			continue
		}
		if _, gone := s.taken[k]; gone {
			continue
		}
		fn(k, b)
	}
}

// raw returns key's encoded value as the handler sees it now, and marks
// the session read. mu held.
func (s *Session) raw(key string) ([]byte, bool) {
	s.read = true
	return s.value(key)
}

// value is raw without marking the session read, for the session's own
// bookkeeping. mu held.
func (s *Session) value(key string) ([]byte, bool) {
	if b, ok := s.set[key]; ok {
		return b, true
	}
	if s.cleared {
		return nil, false
	}
	if _, gone := s.del[key]; gone {
		return nil, false
	}
	if _, gone := s.taken[key]; gone {
		return nil, false
	}
	b, ok := s.base[key]
	return b, ok
}

// Renew issues a new token at commit, keeping the data; the old token is
// dead from then on. Call it whenever the session's privileges change.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.renew = true
}

// Destroy ends the session: at commit the record is deleted and the cookie
// cleared. Values put after Destroy start a new session with a new token.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id != "" {
		s.doomed = s.id
	}
	s.id, s.token = "", ""
	s.meta = Meta{}
	s.base, s.set, s.del, s.taken = nil, nil, nil, nil
	s.cleared, s.renew, s.touch = false, false, false
	s.keys, s.size, s.sized = 0, 0, true
}

// note queues e for Commit to emit once mu is released. mu held.
func (s *Session) note(e Event) {
	if s.events == nil {
		s.events = s.evbuf[:0]
	}
	s.events = append(s.events, e)
}

// dirty reports whether there is anything to write. mu held.
func (s *Session) dirty() bool {
	return len(s.set) > 0 || len(s.del) > 0 || s.cleared || s.renew || s.touch
}

// settle folds committed changes into base, so a later commit in the same
// request writes only what changed since. The store may hold the same map
// (ApplyValues may hand back the set map itself); neither side ever writes
// a map once handed over (see store's package doc). mu held.
func (s *Session) settle() {
	if len(s.set) > 0 || len(s.del) > 0 || s.cleared {
		s.base = s.values()
	}
	s.set, s.del, s.cleared, s.renew, s.touch = nil, nil, false, false, false
}

// values is every value as the handler sees it now, for a new record or
// as the new base. mu held.
func (s *Session) values() map[string][]byte {
	// A Change on the stack, not s.change's: a new session's commit must not
	// pay an allocation for it.
	ch := store.Change{Clear: s.cleared, Set: s.set, Del: s.deleted()}
	v := ch.ApplyValues(s.base)
	if v == nil {
		return map[string][]byte{}
	}
	return v
}

// change is the pending write as a store Change. mu held.
func (s *Session) change(now time.Time, meta *Meta) *store.Change {
	return &store.Change{Now: now, Idle: s.m.cfg.IdleTimeout, Meta: meta,
		UserID: s.meta.UserID, ExpiresAt: s.meta.ExpiresAt,
		Clear: s.cleared, Set: s.set, Del: s.deleted()}
}

// deleted lists the stored keys to delete at commit; nil when none. mu held.
func (s *Session) deleted() []string {
	if len(s.del) == 0 {
		return nil
	}
	keys := make([]string, 0, len(s.del))
	for k := range s.del {
		keys = append(keys, k)
	}
	return keys
}

// Sessions lists the sessions of the user this session is bound to,
// newest first, this one marked Current.
func (s *Session) Sessions(ctx context.Context) ([]SessionInfo, error) {
	s.mu.Lock()
	s.read = true
	id, user := s.id, s.meta.UserID
	s.mu.Unlock()
	list, err := s.m.ListSessions(ctx, user)
	for i := range list {
		list[i].Current = id != "" && list[i].ID == id
	}
	return list, err
}

// Revoke ends one of this session's user's sessions, by the ID a listing
// shows, and reports whether it did. Revoking this very session is a
// logout: it is destroyed at commit and the cookie cleared. Another user's
// session, or an unknown ID, is left alone and reported false.
func (s *Session) Revoke(ctx context.Context, id string) (bool, error) {
	s.mu.Lock()
	self, user := s.id != "" && id == s.id, s.meta.UserID
	s.mu.Unlock()
	if self && user != "" {
		s.Destroy()
		return true, nil
	}
	return s.m.RevokeSession(ctx, user, id)
}

// RevokeOthers ends every other session of this session's user ("log out
// my other devices") and returns how many it ended.
func (s *Session) RevokeOthers(ctx context.Context) (int, error) {
	s.mu.Lock()
	id, user := s.id, s.meta.UserID
	s.mu.Unlock()
	return s.m.RevokeAll(ctx, user, id)
}
