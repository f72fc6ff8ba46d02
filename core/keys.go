package core

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// keyTable interns the keys handlers put. The store keeps a key as long
// as the session, and a key may point into a request buffer the framework
// reuses (fasthttp), so Put must copy it; an application puts the same
// few keys into every session, and with the table they all share one
// copy: a Put of a known key allocates nothing for it, and a store of
// many sessions holds each key once.
//
// It is bounded, whatever the keys: a slot is taken by the first key
// that hashes to it and kept, never replaced, and a long key is never
// interned. A key that finds its slot taken is copied, as without the
// table. Keys are not secret (the store's Values are keyed by them in
// every session alike), so sharing them is safe.
type keyTable struct {
	seed  maphash.Seed
	slots [keySlots]atomic.Pointer[string]
}

const (
	keySlots     = 256
	maxKeyIntern = 64 // bytes
)

func newKeyTable() *keyTable { return &keyTable{seed: maphash.MakeSeed()} }

// intern returns a copy of k that the session may keep: the table's when
// k is in it, or is added to it now. A nil table copies.
func (t *keyTable) intern(k string) string {
	if t == nil || k == "" || len(k) > maxKeyIntern {
		return strings.Clone(k)
	}
	slot := &t.slots[maphash.String(t.seed, k)%keySlots]
	if p := slot.Load(); p != nil {
		if *p == k {
			return *p
		}
		return strings.Clone(k)
	}
	c := strings.Clone(k)
	if slot.CompareAndSwap(nil, &c) {
		return c
	}
	if p := slot.Load(); *p == k {
		return *p
	}
	return c
}
