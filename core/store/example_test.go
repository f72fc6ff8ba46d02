package store_test

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// A session ends at the earlier of its idle and absolute deadlines.
func ExampleMeta_Deadline() {
	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	m := store.Meta{
		CreatedAt: start,
		LastSeen:  start.Add(23 * time.Hour),
		ExpiresAt: start.Add(24 * time.Hour),
	}
	fmt.Println(m.Deadline(30 * time.Minute).Format(time.Kitchen)) // idle deadline first
	fmt.Println(m.Deadline(2 * time.Hour).Format(time.Kitchen))    // then the lifetime caps it
	// Output:
	// 8:30AM
	// 9:00AM
}

func ExampleValidID() {
	fmt.Println(store.ValidID("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
	fmt.Println(store.ValidID("../../etc/passwd"))
	// Output:
	// true
	// false
}
