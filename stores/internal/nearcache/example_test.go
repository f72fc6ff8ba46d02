package nearcache_test

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// A store's Load: a hit, else a ticket before the read and a fill after.
// The transport turns the cache on, and forgets what changed.
func Example() {
	c := nearcache.New(nearcache.DefaultMaxBytes, time.Second)
	c.SetReady(true) // the transport: every change will be announced

	t := c.Ticket("id") // before the read is sent
	sent := time.Now()
	rec := &store.Record{Values: map[string][]byte{"k": []byte("v")}}
	c.Put(t, sent, "id", rec, nearcache.Times{LastSeen: 100, Expires: 1000, Deadline: 500})

	fmt.Println(c.Get("id", 110, 100, 50) != nil) // a hit
	c.Forget("id", true)                          // the server announced a change
	fmt.Println(c.Get("id", 110, 100, 50) != nil)
	// Output:
	// true
	// false
}
