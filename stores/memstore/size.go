package memstore

import (
	"slices"

	"github.com/sessionkit/sessionkit/core/store"
)

// What MaxBytes counts: the bytes of every string and value an entry
// holds, plus these overheads, which stand for what holding them costs the
// heap beyond their bytes. They were measured with the runtime's MemStats
// after a GC (amd64, Go 1.26; TestAccountingMatchesHeap keeps them honest,
// and the package doc gives the figures): a session with no value or one
// small value is accounted for its heap to within a few bytes; with more
// values, within about 25% either way, the map's growth steps being what
// they are.
const (
	// recordOverhead is a session record's fixed cost: the entry itself,
	// its slot in the shard's map, and the values map's header.
	recordOverhead = 412
	// mapOverhead is the values map's first group of slots, which the map
	// allocates with its first value.
	mapOverhead = 292
	// valueOverhead is the cost of one value beyond its key's and value's
	// bytes: its map slot (string and slice headers, at the map's load
	// factor) and the rounding of the value's allocation.
	valueOverhead = 56
	// forwardOverhead is a forwarding entry's: the entry and its map slot.
	forwardOverhead = 280
	// metadataOverhead is, for a session that has any Metadata, the map's
	// header and first group of slots, which holds metadataGroup entries.
	metadataOverhead = 336
	metadataGroup    = 8
	// metadataEntryOverhead is the cost of one Metadata entry beyond its
	// key's and value's bytes: the rounding of the value's allocation (the
	// keys are the application's constants; the slot is the group's).
	metadataEntryOverhead = 8
	// metadataGrowth is what each entry past the first group costs on top:
	// the map then moves its entries to a table of groups, which at the
	// core's bound of 16 entries takes 920 bytes more than the one group.
	metadataGrowth = 115
)

// metaSize is what an entry's ID and metadata account for: its strings'
// bytes, and the application's Metadata map. It looks at every Metadata
// entry, at most 16 (the core's bound), so it is cheap whatever the
// session holds; the map is read-only once stored, so a record's metaSize
// never changes while it is stored.
func metaSize(id string, m *store.Meta) int64 {
	n := int64(len(id) + len(m.UserID) + len(m.UserAgent) + len(m.IP) + len(m.Label) + len(m.Binding))
	if l := len(m.Metadata); l > 0 {
		n += metadataOverhead + int64(max(l-metadataGroup, 0))*metadataGrowth
		for k, v := range m.Metadata {
			n += int64(len(k)+len(v)) + metadataEntryOverhead
		}
	}
	return n
}

// valueSize is what one value accounts for.
func valueSize(k string, v []byte) int64 {
	return int64(len(k)+len(v)) + valueOverhead
}

// valuesSize is what a whole values map accounts for.
func valuesSize(m map[string][]byte) int64 {
	if len(m) == 0 {
		return 0
	}
	var n int64 = mapOverhead
	for k, v := range m {
		n += valueSize(k, v)
	}
	return n
}

// recordSize is the accounted size of a record.
func recordSize(id string, m *store.Meta, values map[string][]byte) int64 {
	return recordOverhead + metaSize(id, m) + valuesSize(values)
}

// forwardSize is the accounted size of a forwarding entry.
func forwardSize(id, successor string) int64 {
	return forwardOverhead + int64(len(id)+len(successor))
}

// valuesBytes is the part of record e's size that its values account for.
// Caller holds a lock on e's shard.
func valuesBytes(e *entry) int64 {
	return e.size - recordOverhead - metaSize(e.id, &e.meta)
}

// appliedSize is what values account for once ch has turned old, which
// accounted for oldBytes, into values (ch.ApplyValues(old), the one merge
// of values in the module), worked out from the keys ch names rather than
// by counting values: the cost of a write is that of its change, whatever
// the session's size. old and values are only read.
func appliedSize(oldBytes int64, old map[string][]byte, ch *store.Change, values map[string][]byte) int64 {
	if ch == nil || (!ch.Clear && len(ch.Set) == 0 && len(ch.Del) == 0) {
		return oldBytes
	}
	if ch.Clear {
		// Clear, then Del (of nothing), then Set: only Set is left.
		return valuesSize(values)
	}
	n := oldBytes
	if len(old) > 0 {
		n -= mapOverhead
	}
	if len(values) > 0 {
		n += mapOverhead
	}
	for k, v := range ch.Set {
		if ov, ok := old[k]; ok {
			n -= valueSize(k, ov)
		}
		n += valueSize(k, v)
	}
	// A key deleted twice must be discounted once; the set is made only
	// for a change long enough for the quadratic check to cost more.
	var seen map[string]struct{}
	if len(ch.Del) > 16 {
		seen = make(map[string]struct{}, len(ch.Del))
	}
	for i, k := range ch.Del {
		ov, ok := old[k]
		if !ok {
			continue
		}
		if _, set := ch.Set[k]; set {
			continue // already replaced above
		}
		if seen != nil {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
		} else if slices.Contains(ch.Del[:i], k) {
			continue
		}
		n -= valueSize(k, ov)
	}
	return n
}
