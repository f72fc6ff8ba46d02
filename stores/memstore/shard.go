package memstore

import (
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/core/store"
)

// entry is what a shard holds under an ID: a session record, or a
// forwarding entry left by Renew with a grace period.
type entry struct {
	meta store.Meta
	// values is never written after it is stored (it may have been handed
	// out by Load); changes swap in a new map.
	values map[string][]byte
	// successor is set on a forwarding entry, which has no meta and no values.
	successor string
	// expires is the deadline computed at the last write or touch; for a
	// forwarding entry, the end of the grace period.
	expires time.Time
}

func (e *entry) forwarding() bool { return e.successor != "" }

// aliveAt reports whether e, of either kind, still exists at now.
func (e *entry) aliveAt(now time.Time) bool { return now.Before(e.expires) }

// recordAt reports whether e is a session record that is live at now, both
// by its stored deadline and by the idle timeout of the current call.
func (e *entry) recordAt(now time.Time, idle time.Duration) bool {
	return !e.forwarding() && now.Before(e.expires) && now.Before(e.meta.Deadline(idle))
}

// shard is one slice of the record map.
type shard struct {
	mu sync.RWMutex
	m  map[string]*entry
	// Readers write the RWMutex's reader count; padding keeps neighbouring
	// shards off each other's cache lines so parallel reads don't contend.
	_ [128 - unsafe.Sizeof(sync.RWMutex{}) - unsafe.Sizeof(map[string]*entry(nil))]byte
}

func (s *Store) shardIndex(id string) uint32 { return shardKey(id) & s.mask }

func (s *Store) shard(id string) *shard { return &s.shards[s.shardIndex(id)] }

// shardKey reads the first four hex digits of id: IDs are uniformly random,
// so they spread evenly without hashing. Anything else (the manager never
// sends it, but the store must not panic) falls back to a hash.
func shardKey(id string) uint32 {
	if len(id) >= 4 {
		var v uint32
		for i := 0; i < 4; i++ {
			c := id[i]
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | uint32(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | uint32(c-'a'+10)
			default:
				return fnv32(id)
			}
		}
		return v
	}
	return fnv32(id)
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// lockShards write-locks the shards at idx in ascending order, the one order
// every multi-shard operation uses, and returns the sorted, deduplicated set
// to hand to unlockShards.
func (s *Store) lockShards(idx []uint32) []uint32 {
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s.shards[i].mu.Lock()
	}
	return idx
}

func (s *Store) unlockShards(idx []uint32) {
	for i := len(idx) - 1; i >= 0; i-- {
		s.shards[idx[i]].mu.Unlock()
	}
}

// applyMeta returns the metadata after a write at now: ch.Meta replaces old
// when set, and LastSeen is always the time of the write.
func applyMeta(old store.Meta, ch *store.Change, now time.Time) store.Meta {
	m := old
	if ch != nil && ch.Meta != nil {
		m = *ch.Meta
	}
	m.LastSeen = now
	return m
}
