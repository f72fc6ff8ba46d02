package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// TestCreateAllocs guards the client's allocations of a new anonymous
// session (one RESTORE, against a real server): the record's fields, the
// payload, the command. The bound is the 12 the store makes today, with
// a little room for go-redis's own (its pool's connection check); it was
// 71 before the listpack was built without strconv and from the record
// itself (dumpRecord), and the payload went to RESTORE as bytes.
func TestCreateAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a server")
	}
	s, _ := newStore(t, standaloneClient(t))
	ctx := context.Background()
	now := time.Now()
	const runs = 200
	ids := make([]string, runs+1)
	recs := make([]*store.Record, runs+1)
	for i := range ids {
		ids[i] = newID(t)
		recs[i] = &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"count": []byte("1"), "flash": []byte("welcome back")}}
	}
	i := 0
	var err error
	allocs := testing.AllocsPerRun(runs, func() {
		if err == nil {
			_, err = s.Create(ctx, ids[i], recs[i], wopts(now))
		}
		i++
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.1f allocs per Create", allocs)
	if allocs > createAllocs {
		t.Errorf("%.1f allocs per anonymous Create, want at most %d", allocs, createAllocs)
	}
}

const createAllocs = 14

// TestUpdateAllocs guards the client's allocations of a read-write
// request's two calls on an anonymous session, against a real server:
// Load (HGETALL, decoded) and Update (the script alone, without a
// pipeline). Bounds as TestCreateAllocs's: today's (35 and 26; Update's
// was 35 in a pipeline), with a little room.
func TestUpdateAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a server")
	}
	s, _ := newStore(t, standaloneClient(t))
	ctx := context.Background()
	now := time.Now()
	id := create(t, s, now, "", "count", "1")
	var err error
	loads := testing.AllocsPerRun(200, func() {
		if err == nil {
			_, err = s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: time.Hour})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := &store.Change{Now: now, Idle: idle, ExpiresAt: now.Add(lifetime), Set: map[string][]byte{"count": []byte("2")}}
	updates := testing.AllocsPerRun(200, func() {
		if err == nil {
			err = s.Update(ctx, id, ch)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.1f allocs per Load, %.1f per Update", loads, updates)
	if loads > loadAllocs {
		t.Errorf("%.1f allocs per Load, want at most %d", loads, loadAllocs)
	}
	if updates > updateAllocs {
		t.Errorf("%.1f allocs per Update, want at most %d", updates, updateAllocs)
	}
}

const (
	loadAllocs   = 38
	updateAllocs = 29
)
