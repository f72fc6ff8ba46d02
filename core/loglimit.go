package core

import (
	"sync"
	"time"
)

// Log lines for events a client can cause at will (a dead or forged token
// on every request) are limited, so that one client cannot flood the logs:
// at most clientLinesPerWindow of them per clientWindow. The hook
// (Config.OnEvent) still gets every event.
const (
	clientLinesPerWindow = 20
	clientWindow         = 10 * time.Second
)

// logLimiter counts those lines. The first line let through after a
// window that suppressed some says how many ("suppressed").
type logLimiter struct {
	mu         sync.Mutex
	start      time.Time // of the current window
	lines      int       // logged in it
	suppressed int       // not logged since the last line that was
}

// allow reports whether a line may be logged at now, and how many were
// suppressed before it.
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= clientWindow || now.Before(l.start) {
		l.start, l.lines = now, 0
	}
	if l.lines >= clientLinesPerWindow {
		l.suppressed++
		return false, 0
	}
	l.lines++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// clientDriven reports whether a client can make the manager emit events
// of kind k as often as it likes.
func clientDriven(k EventKind) bool {
	return k == EventInvalidToken || k == EventExpired || k == EventBindingMismatch
}
