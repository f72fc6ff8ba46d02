package adaptertest

import (
	"context"
	"sync"

	"github.com/sessionkit/sessionkit/core"
)

// recorder collects the manager's events.
type recorder struct {
	mu     sync.Mutex
	events []core.Event
}

func (r *recorder) hook(_ context.Context, e core.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) count(k core.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func (r *recorder) all() []core.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]core.Event(nil), r.events...)
}
