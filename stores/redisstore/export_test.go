package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// LoadScripts loads every script into the server's cache (every master's,
// in a cluster), so that tests counting round trips do not count the EVAL
// fallback of a first call.
func LoadScripts(ctx context.Context, c redis.UniversalClient) error {
	for _, sc := range []*redis.Script{
		touchScript, updateScript, createScript, claimScript, restoreScript,
		deleteScript, unlinkScript, takeScript, revokeScript, indexAddScript, indexPutScript, indexPageScript,
	} {
		if err := sc.Load(ctx, c).Err(); err != nil {
			return err
		}
	}
	return nil
}

// WalkBatch is the COUNT of a walk's SCANs.
const WalkBatch = walkBatch

// WaitTracking waits up to d until the near cache is on (every node
// tracked), and reports whether it is.
func WaitTracking(s *Store, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !s.cache.Ready() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// TrackingConns are the CLIENT IDs of the tracking connections that are
// up, by the address of their node.
func TrackingConns(s *Store) map[string]int64 { return s.tracking.conns() }

// DropInvalidations makes the trackers throw away every invalidation
// they receive (drop true), as if lost on the way, or stop doing so.
func DropInvalidations(s *Store, drop bool) { s.cache.DropInvalidations.Store(drop) }

// HoldTracking keeps the trackers from establishing tracking on a new
// connection (hold true), as if Redis refused it, or lets them again.
func HoldTracking(s *Store, hold bool) { s.tracking.hold.Store(hold) }

// OnInvalidation has f called with every ID Redis invalidates in s's
// cache, once its entry is gone; nil stops it.
func OnInvalidation(s *Store, f func(id string)) {
	s.cache.OnInvalidation(f)
}

// Folded is one write of FoldedWrites: a Delete when Delete is set,
// else an Update setting Set; marked as the store of Tag wrote it (""
// for the store itself writing through, "plain" for the store itself
// otherwise, "-" for a writer that marks nothing).
type Folded struct {
	Tag    string
	Set    map[string][]byte
	Delete bool
}

// FoldedWrites runs the scripts of writes on id in one pipeline on c:
// Redis runs them in one event-loop pass, so tracking announces them as
// one.
func FoldedWrites(ctx context.Context, c redis.UniversalClient, s *Store, id string, now time.Time, writes []Folded) error {
	pipe := c.Pipeline()
	for _, w := range writes {
		marker := ""
		switch w.Tag {
		case "":
			_, marker = s.keyAndMarker(id, true)
		case "plain":
			marker = s.marker(id)
		case "-":
		default:
			marker = markerKey(s.opts.prefix(), s.key(id), w.Tag)
		}
		if w.Delete {
			deleteScript.EvalSha(ctx, pipe, []string{s.key(id)}, millis(now), markerTTL.Milliseconds(), "0", marker)
			continue
		}
		args := []any{millis(now), (30 * time.Minute).Milliseconds(), "0", "", "", 0, 0, 2 * len(w.Set)}
		for k, v := range w.Set {
			args = append(args, valuePrefix+k, v)
		}
		args = append(args, marker)
		updateScript.EvalSha(ctx, pipe, []string{s.key(id)}, args...)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// NewClusterClientEvery builds a Cluster client as NewClient does, but
// reloading its slot map every interval when nothing fails.
func NewClusterClientEvery(co *redis.ClusterOptions, interval time.Duration) *redis.ClusterClient {
	return newClusterClient(co, interval)
}
