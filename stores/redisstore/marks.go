package redisstore

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Write markers: how an Update of this store leaves its result in the
// near cache (writes through) instead of dropping it, so that a request
// that reads and writes a cached session costs one round trip.
//
// BCAST tracking announces every change of a key to every tracker, this
// store's own too, and it folds the changes of one event-loop pass into
// one announcement per prefix: a key changed by this store and by another
// process in the same pass is announced once. Dropping the entry on every
// announcement throws the write-through away; keeping it on the
// announcement of "a write of ours" keeps a stale entry whenever another
// process's change was folded into it. So every script that changes a
// session key, in every Store (with a cache or not), also sets and at
// once deletes a marker key, which names the session and the Store that
// changed it:
//
//	<prefix><first hex digit of the ID>{<session key>}<tag>
//
// The marker starts like the session key, so it is under the same
// tracking prefix and lands in the same announcement, which lists the
// keys of one pass; its hash tag is the session key, so that in a
// Cluster it is in the session's slot (with a prefix that has a hash tag
// of its own, it is that tag, again the session's). It goes to the
// script as its last ARGV, not as a key: in a slot being migrated, a
// declared key that is not there gets the whole script refused, while
// the script's own SET of it fails alone (pcall) and leaves the change
// unmarked. It never holds a value between commands, so it costs the
// server two small commands per change and no memory.
//
// A Store has two random tags: one for its Updates that write through,
// one for every other change it makes. An announcement that names a
// session key and markers for it with this Store's write-through tag
// only is passed over: every change it announces was a write-through of
// this Store's, and each of those put its result in the cache
// (nearcache.Cache.Written) or dropped the entry when it returned. A
// marker with any other tag (another Store's, or this Store's own on a
// change that does not write through, such as a Delete that timed out
// here and then landed), or none, drops the entry as before; so does an
// announcement holding a marker this version cannot read. Every change
// this package makes to a live record, or that ends one, is a marking
// script, a Delete's removal of the links it walked included (a Renew's
// undo may have made one live again; TestDeleteMarksEveryChange); its
// plain commands only touch keys a marking script made non-live in
// between (the forwarding entry of a Renew) or create keys that were not
// there (RESTORE), so whatever they change in the same pass is covered
// by that script's marker. (Not to be confused with the marker a Renew
// without grace leaves under the old ID, markerTTL's.)
//
// What this cannot see: a change made without a marker (a command by
// hand, a version of this package from before markers, a memory
// eviction) in the same event-loop pass as this Store's own Update of
// the same session, within microseconds of it; and, as narrow, a change
// landing between two copies of one write-through Update (another
// process's, or a later write-through of this Store's own), when go-redis
// resent it after a timeout and the first copy ran late. That entry is
// served at most MaxStaleness, the bound that holds when an announcement
// is lost; CacheOptions.NoWriteThrough removes the window.

// tagLen is the length of a store's tag: 64 random bits, hex.
const tagLen = 16

func newTag() string {
	var b [tagLen / 2]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand's documentation)
	return hex.EncodeToString(b[:])
}

// markerKey is the marker of key (a session key, prefix and ID) in
// tag's name.
func markerKey(prefix, key, tag string) string {
	return key[:len(prefix)+1] + "{" + key + "}" + tag
}

// isMarker reports whether rest, a tracked key less the prefix, is a
// marker: a session ID never holds a brace.
func isMarker(rest string) bool { return strings.IndexByte(rest, '{') >= 0 }

// parseMarker returns the ID and the tag a marker names (rest less the
// prefix), ok false for anything else.
func parseMarker(prefix, rest string) (id, tag string, ok bool) {
	n := len(rest)
	if n < 2+len(prefix)+1+1+tagLen || rest[1] != '{' || rest[n-tagLen-1] != '}' {
		return "", "", false
	}
	key := rest[2 : n-tagLen-1]
	id, ok = strings.CutPrefix(key, prefix)
	if !ok || id == "" || id[0] != rest[0] {
		return "", "", false
	}
	return id, rest[n-tagLen:], true
}

// hashTag is what Redis Cluster hashes of a key: the part between its
// first '{' and the first '}' after it, if that is not empty; else the
// whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// marksShareSlot reports whether a marker hashes as its session key does
// under prefix: true unless the prefix has an unbalanced brace.
func marksShareSlot(prefix, tag string) bool {
	key := prefix + strings.Repeat("0", 64)
	return hashTag(markerKey(prefix, key, tag)) == hashTag(key)
}

// ownChanges returns the IDs of an announcement (its keys) whose every
// change was a write-through of this store's: keys holds a marker with
// its write-through tag (g.tag) for each, and no other marker, this
// store's plain tag included. Nil when there is none, as for every
// announcement without markers, for one holding a marker this version
// cannot read, and always when the store does not write through.
func (g *tracking) ownChanges(keys []string) map[string]bool {
	if !g.passOwn {
		return nil
	}
	var own map[string]bool
	trusted := int64(time.Since(g.born)) >= g.distrustUntil.Load()
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, g.prefix)
		if !ok || !isMarker(rest) {
			continue
		}
		id, tag, ok := parseMarker(g.prefix, rest)
		if !ok {
			// A marker this version cannot read (another version's?)
			// may be another's change of any key here: pass over none.
			return nil
		}
		if own == nil {
			own = map[string]bool{}
		}
		mine, seen := own[id]
		own[id] = (mine || !seen) && tag == g.tag && trusted
	}
	return own
}

// distrustFor is how long a failed write-through keeps this store's
// markers from explaining anything (distrust).
const distrustFor = time.Minute

// distrust stops this store's markers from explaining anything for
// distrustFor: an Update that writes through failed, and whether and
// when Redis applies it is unknown (a script still in a socket is run
// when it arrives). Its marker could otherwise pass over the
// announcement of its change after a fill of the older record. (Every
// other change of this store carries its plain tag, which its own
// tracker never passes over.) A write that lands later still, more than
// distrustFor after its error, leaves such a fill served at most
// MaxStaleness.
func (g *tracking) distrust() {
	g.distrustUntil.Store(int64(time.Since(g.born) + distrustFor))
}

// marker is the marker of a change of id by s that does not write
// through, as the scripts take it (their last ARGV): "" when s cannot
// mark.
func (s *Store) marker(id string) string {
	_, m := s.keyAndMarker(id, false)
	return m
}

// keyAndMarker returns id's session key and the marker of its change by
// s, with the tag of a write-through when through is set (as marker
// does otherwise), the key a part of the marker: one allocation for the
// two.
func (s *Store) keyAndMarker(id string, through bool) (key, marker string) {
	if !s.marks || id == "" {
		return s.key(id), ""
	}
	tag := s.plainTag
	if through {
		tag = s.tag
	}
	p := s.opts.prefix()
	marker = p + id[:1] + "{" + p + id + "}" + tag
	return marker[len(p)+2 : len(p)+2+len(p)+len(id)], marker
}
