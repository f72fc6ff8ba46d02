package nearcache

import (
	"context"
	"time"
)

// Redial paces a transport's reconnections (Redis's tracking connections,
// PostgreSQL's listening one): soon after a connection that worked, so
// the cache is back promptly after a blip, and with a pause doubling to a
// second while attempts fail, so a server that is down is not hammered.
// The zero Redial is ready to use.
type Redial struct{ pause time.Duration }

// Wait sleeps before the next attempt, given whether the last connection
// worked; false if ctx ended first.
func (r *Redial) Wait(ctx context.Context, worked bool) bool {
	if worked || r.pause == 0 {
		r.pause = 10 * time.Millisecond
	} else {
		r.pause = min(2*r.pause, time.Second)
	}
	t := time.NewTimer(r.pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
