package nearcache

import (
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

func rec() *store.Record {
	return &store.Record{Values: map[string][]byte{"k": []byte("v")}}
}

var live = Times{LastSeen: 100, Expires: 1000, Deadline: 500}

func TestFillRefusedByInvalidationSinceTicket(t *testing.T) {
	c := New(DefaultMaxBytes, time.Minute)
	c.SetReady(true)
	tk := c.Ticket("a")
	c.Forget("a", true)
	c.Put(tk, time.Now(), "a", rec(), live)
	if c.Get("a", 110, 100, 50) != nil {
		t.Fatal("a fill racing an invalidation landed")
	}
	c.Put(c.Ticket("a"), time.Now(), "a", rec(), live)
	if c.Get("a", 110, 100, 50) == nil {
		t.Fatal("a fill with a fresh ticket did not land")
	}
}

func TestOffStateAndGenerations(t *testing.T) {
	c := New(DefaultMaxBytes, time.Minute)
	tk := c.Ticket("a") // taken while off
	c.SetReady(true)
	c.Put(tk, time.Now(), "a", rec(), live)
	if c.Get("a", 110, 100, 50) != nil {
		t.Fatal("a fill ticketed while off landed")
	}
	tk = c.Ticket("a")
	c.Flush()
	c.Put(tk, time.Now(), "a", rec(), live)
	if c.Get("a", 110, 100, 50) != nil {
		t.Fatal("a fill ticketed before a flush landed")
	}
	c.Put(c.Ticket("a"), time.Now(), "a", rec(), live)
	c.SetReady(false)
	if c.Get("a", 110, 100, 50) != nil || c.Stats().Entries != 0 {
		t.Fatal("an entry survived the cache going off")
	}
	if s := c.Stats(); s.Bypasses != 1 || s.Flushes != 1 || s.Ready {
		t.Fatalf("stats %+v", s)
	}
}

func TestTimesChecked(t *testing.T) {
	c := New(DefaultMaxBytes, time.Minute)
	c.SetReady(true)
	c.Put(c.Ticket("a"), time.Now(), "a", rec(), live)
	c.Put(c.Ticket("own"), time.Now(), "own", rec(), Times{LastSeen: 100, Expires: 1000, Deadline: 500, Idle: 20})
	for _, tc := range []struct {
		id                    string
		now, idle, touchAfter int64
		hit                   bool
	}{
		{"a", 110, 100, 50, true},
		{"a", 160, 100, 50, false},    // touch due
		{"a", 200, 100, 500, false},   // idle deadline
		{"a", 500, 1000, 1000, false}, // stored deadline
		{"own", 115, 1000, 50, true},
		{"own", 120, 1000, 50, false}, // its own idle timeout
	} {
		if got := c.Get(tc.id, tc.now, tc.idle, tc.touchAfter) != nil; got != tc.hit {
			t.Errorf("%+v: hit %v", tc, got)
		}
	}
}

func TestMaxAge(t *testing.T) {
	c := New(DefaultMaxBytes, 20*time.Millisecond)
	c.SetReady(true)
	c.Put(c.Ticket("a"), time.Now().Add(-20*time.Millisecond), "a", rec(), live)
	if c.Get("a", 110, 100, 50) != nil {
		t.Fatal("an entry as old as MaxStaleness was served")
	}
	c.Sweep()
	if n := c.Stats().Entries; n != 0 {
		t.Fatalf("%d entries after a sweep", n)
	}
}

func TestByteBound(t *testing.T) {
	const bound = 256 << 10
	c := New(bound, time.Minute)
	c.SetReady(true)
	for i := range 2000 {
		id := strconv.Itoa(i)
		c.Put(c.Ticket(id), time.Now(), id, rec(), live)
	}
	s := c.Stats()
	if s.Bytes > bound || s.Evictions == 0 || s.Entries == 0 {
		t.Fatalf("stats %+v over a bound of %d", s, bound)
	}
	big := &store.Record{Values: map[string][]byte{"k": make([]byte, bound)}}
	c.Put(c.Ticket("big"), time.Now(), "big", big, live)
	if c.Get("big", 110, 100, 50) != nil {
		t.Fatal("a record over the shard's share was cached")
	}
}

func TestValidate(t *testing.T) {
	if b, d, err := Validate("x", 0, 0); err != nil || b != DefaultMaxBytes || d != DefaultMaxStaleness {
		t.Fatalf("defaults: %d %v %v", b, d, err)
	}
	for _, tc := range []struct {
		b int64
		d time.Duration
	}{{-1, 0}, {0, -1}, {0, MaxMaxStaleness + 1}} {
		if _, _, err := Validate("x", tc.b, tc.d); err == nil {
			t.Errorf("%+v accepted", tc)
		}
	}
}

// A cache seen off by Stats is seen empty: Stats waits for a state change
// in progress, which drops the entries, to end.
func TestStatsOffIsEmpty(t *testing.T) {
	c := New(DefaultMaxBytes, time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 500 {
			c.SetReady(true)
			for j := range 64 {
				id := strconv.Itoa(j)
				c.Put(c.Ticket(id), time.Now(), id, rec(), live)
			}
			c.SetReady(false)
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		if s := c.Stats(); !s.Ready && s.Entries != 0 {
			t.Fatalf("off with %d entries", s.Entries)
		}
	}
}
