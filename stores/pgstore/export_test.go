package pgstore

import "time"

// WaitListening waits up to d until the near cache is on, and reports
// whether it is.
func WaitListening(s *Store, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !s.cache.Ready() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// ListenerPID is the backend PID of the listening connection while the
// cache is on, else 0.
func ListenerPID(s *Store) uint32 { return s.listener.pid.Load() }

// DropInvalidations makes the listener throw away every invalidation it
// receives (drop true), as if lost on the way, or stop doing so.
func DropInvalidations(s *Store, drop bool) { s.cache.DropInvalidations.Store(drop) }

// HoldListening keeps the listener from connecting again (hold true), as
// if the database refused it, or lets it again.
func HoldListening(s *Store, hold bool) { s.listener.hold.Store(hold) }

// OnInvalidation has f called with every ID a notification invalidates in
// s's cache, once its entry is gone; nil stops it.
func OnInvalidation(s *Store, f func(id string)) { s.cache.OnInvalidation(f) }

// Heartbeat is the listener's heartbeat for a MaxStaleness of d.
func Heartbeat(d time.Duration) time.Duration { return heartbeatFor(d) }
