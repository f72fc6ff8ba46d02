package redisstore_test

import (
	"fmt"
	"log"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// A manager keeping its sessions in Redis. More than one address would give
// a Redis Cluster client; the same code runs on either.
func Example() {
	client, err := redisstore.NewClient([]string{"127.0.0.1:6379"}, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close() // after the manager's last use

	st, err := redisstore.New(client, redisstore.Options{Prefix: "myapp:session:"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := core.New(core.Config{Store: st, IdleTimeout: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	// Hand m to an adapter, e.g. sessionhttp.New(m)(mux).
}

// A manager whose Redis store keeps a near cache: Loads of a session read
// in the last second (MaxStaleness) send no command, and Redis's
// invalidations drop a record as soon as another process changes or
// revokes it. The Store holds connections of its own then: close it
// before the client.
func Example_nearCache() {
	client, err := redisstore.NewClient([]string{"127.0.0.1:6379"}, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close() // runs last

	st, err := redisstore.New(client, redisstore.Options{
		Prefix: "myapp:session:",
		Cache: &redisstore.CacheOptions{
			MaxBytes:     64 << 20,    // an estimate of the records' heap
			MaxStaleness: time.Second, // the bound when invalidations are lost
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // before client.Close

	m, err := core.New(core.Config{Store: st, IdleTimeout: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	// Hand m to an adapter. st.CacheStats() has the hits, misses,
	// invalidations and whether tracking is up, for a metrics endpoint.
}

// Where a session and a user's index live, for a look with redis-cli
// (HGETALL, ZRANGE). The user ID appears only hashed.
func ExampleOptions_UserKeys() {
	o := redisstore.Options{Prefix: "myapp:"}
	fmt.Println(o.SessionKey("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"))
	index, expiry := o.UserKeys("alice")
	fmt.Println(index)
	fmt.Println(expiry)
	// Output:
	// myapp:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
	// myapp:u:{2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90}
	// myapp:u:{2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90}:x
}
