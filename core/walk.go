package core

import (
	"context"
	"errors"
	"iter"

	"github.com/sessionkit/sessionkit/core/store"
)

// errStopWalk ends a walk whose caller stopped ranging.
var errStopWalk = errors.New("walk stopped")

// AllSessions goes over every live session in the store, anonymous ones
// included, with the metadata of a listing (UserID set) and never the
// values: for an administrator's page or a bulk purge. It streams, in the
// memory of one batch of the store's, and runs as long as the iteration
// does, bounded by ctx only (not by Config.StoreTimeout, which is for one
// request's calls). Sessions are in no particular order; one created or
// ended during the walk may or may not be seen, and a store whose scan can
// repeat (Redis) may show one twice.
//
// A store that cannot walk yields ErrWalkUnsupported; a store failure
// yields an error wrapping ErrStore. Either is the last thing yielded.
// Revoking sessions from inside the loop (RevokeSession, RevokeAll) is
// allowed.
func (m *Manager) AllSessions(ctx context.Context) iter.Seq2[SessionInfo, error] {
	return func(yield func(SessionInfo, error) bool) {
		w, ok := m.store.(store.Walker)
		if !ok {
			yield(SessionInfo{}, ErrWalkUnsupported)
			return
		}
		err := w.Walk(ctx, m.cfg.Now(), func(e store.Entry) error {
			if !yield(m.info(&e), nil) {
				return errStopWalk
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopWalk) {
			yield(SessionInfo{}, m.storeFailed(ctx, nil, "walk", "", err))
		}
	}
}
