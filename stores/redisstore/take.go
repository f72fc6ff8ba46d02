package redisstore

import (
	"context"

	"github.com/sessionkit/sessionkit/core/store"
)

// Take removes key from the live record under id and returns its value, in
// one script (one round trip), so concurrent Takes of one key give it to
// exactly one caller.
func (s *Store) Take(ctx context.Context, id, key string, opts store.LoadOptions) ([]byte, bool, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer s.forget(id)
	now := nowOr(opts.Now)
	status, rest, err := reply(takeScript.Run(ctx, s.c, []string{s.key(id)},
		millis(now), opts.Idle.Milliseconds(), valuePrefix+key, s.marker(id)))
	if err != nil {
		return nil, false, failed("take", err)
	}
	switch status {
	case statusTaken:
		return []byte(str(rest, 0)), true, nil
	case statusNone:
		return nil, false, nil
	case statusNotFound:
		return nil, false, store.ErrNotFound
	case statusFwd:
		return nil, false, &store.ErrRenewed{Successor: str(rest, 0)}
	case statusCorrupt:
		return nil, false, corrupt("take", rest)
	}
	return nil, false, unexpected("take", status)
}
