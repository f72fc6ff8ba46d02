package pgstore

import (
	"context"
	"time"
)

// sweepTimeout bounds one janitor sweep, so a stalled database cannot hold
// the janitor (and Close) for long.
const sweepTimeout = 30 * time.Second

// janitor sweeps every interval until Close. Reads already refuse expired
// rows; the janitor is what gives their space back.
func (s *Store) janitor(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel() // Close does not wait for a slow sweep to finish
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			sctx, done := context.WithTimeout(ctx, sweepTimeout)
			if _, err := s.Sweep(sctx); err != nil && ctx.Err() == nil {
				s.log.Warn("pgstore: janitor sweep failed", "err", err)
			}
			done()
		}
	}
}

// Sweep deletes the rows whose deadline has passed by the store's clock
// (sessions past their idle or absolute deadline, forwarding entries past
// their grace, markers), and returns how many. It deletes in statements of
// Options.JanitorBatch rows, each its own short transaction, until none is
// left. Each skips the rows another transaction has locked (FOR UPDATE
// SKIP LOCKED): a request working on a session, or another process's
// sweep, neither waits for it nor makes it wait; what it skips the next
// sweep finds. Any number of processes may sweep at once.
//
// The janitor calls Sweep every Options.JanitorInterval; an application
// that runs the janitor in only some processes (JanitorInterval negative
// elsewhere), or from a scheduled job, calls it itself.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	ctx, err := begin(ctx, "sweep")
	if err != nil {
		return 0, err
	}
	batch := s.opts.JanitorBatch
	if batch == 0 {
		batch = DefaultJanitorBatch
	}
	now := s.clock(time.Time{})
	total := 0
	for {
		var n int
		err := retry(func() error {
			tag, err := s.pool.Exec(ctx, s.q.sweep, now, batch)
			n = int(tag.RowsAffected())
			return err
		})
		if err != nil {
			return total, &Error{Op: "sweep", Err: err}
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}
