package redisstore

import (
	"hash/maphash"
	"sync"
)

// hintSlots is how many sessions the hints remember: many more than there
// are requests between a Load and the Update that follows it, however many
// run at once.
const hintSlots = 1024

// hints remember, for the sessions this process loaded or wrote last, the
// user each is bound to and its absolute expiry, so that Update, which is
// not told the user, can move the session's deadline in that user's
// expiry index within the round trip of its write: the manager always
// loads a session before it updates it. A hint is only a shortcut: Update
// checks it against the user its script reports, and makes one more round
// trip when it was missing or wrong. It is a fixed table, each session ID
// hashed to one slot, so it never grows.
type hints struct {
	seed  maphash.Seed
	slots [hintSlots]hint
}

type hint struct {
	mu   sync.Mutex
	id   string
	user string
	exp  int64 // absolute expiry, Unix ms
}

func newHints() *hints { return &hints{seed: maphash.MakeSeed()} }

func (h *hints) slot(id string) *hint {
	return &h.slots[maphash.String(h.seed, id)%hintSlots]
}

// put remembers that id is bound to user and ends by exp at the latest. An
// anonymous session is in no index, so it needs no hint.
func (h *hints) put(id, user string, exp int64) {
	if user == "" {
		return
	}
	sl := h.slot(id)
	sl.mu.Lock()
	sl.id, sl.user, sl.exp = id, user, exp
	sl.mu.Unlock()
}

// get returns what put remembered of id, unless another ID took its slot
// since.
func (h *hints) get(id string) (user string, exp int64, ok bool) {
	sl := h.slot(id)
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.id != id {
		return "", 0, false
	}
	return sl.user, sl.exp, true
}
