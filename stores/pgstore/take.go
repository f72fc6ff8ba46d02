package pgstore

import (
	"context"

	"github.com/sessionkit/sessionkit/core/store"
)

// Take removes key from the live record under id and returns its value,
// in one statement (one round trip): the value row's deletion decides, so
// of concurrent Takes of one key exactly one gets it. The session row is
// share-locked against deletion meanwhile, so a session deleted under a
// Take is reported missing, not as lacking the key. LastSeen and the
// deadline stay. A missing or expired record is ErrNotFound, a forwarding
// entry *store.ErrRenewed.
func (s *Store) Take(ctx context.Context, id, key string, opts store.LoadOptions) ([]byte, bool, error) {
	ctx, err := begin(ctx, "take")
	if err != nil {
		return nil, false, err
	}
	defer s.forget(id)
	now := s.clock(opts.Now)
	cutoff, _ := window(now, opts.Idle)
	var n int64
	var value []byte
	var r row
	err = retry(func() error {
		return s.pool.QueryRow(ctx, s.q.take, id, []byte(key), now, cutoff).
			Scan(append([]any{&n, &value}, r.dest()...)...)
	})
	if err != nil {
		return nil, false, &Error{Op: "take", Err: err}
	}
	if k, _ := r.classify(now, cutoff); k != kindLive {
		return nil, false, refusal("take", &r, now, cutoff)
	}
	if n == 0 {
		return nil, false, nil
	}
	if value == nil {
		value = []byte{}
	}
	return value, true, nil
}
