package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// The manager normally drives the store; this is what it does for one
// session: create, write a key, read it back, and find it expired once idle
// for longer than the idle timeout.
func Example() {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	ctx := context.Background()
	const idle = 30 * time.Minute
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	id := strings.Repeat("5e", 32) // the hex SHA-256 of a session token

	rec := &store.Record{
		Meta: store.Meta{
			UserID: "alice", CreatedAt: now, IssuedAt: now, LastSeen: now,
			ExpiresAt: now.Add(24 * time.Hour),
		},
		Values: map[string][]byte{"count": []byte("1")},
	}
	if _, err := s.Create(ctx, id, rec, store.WriteOptions{Now: now, Idle: idle}); err != nil {
		fmt.Println(err)
		return
	}
	err := s.Update(ctx, id, &store.Change{Now: now, Idle: idle, Set: map[string][]byte{"count": []byte("2")}})
	if err != nil {
		fmt.Println(err)
		return
	}

	got, err := s.Load(ctx, id, store.LoadOptions{Now: now.Add(time.Minute), Idle: idle, TouchAfter: idle / 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Meta.UserID, string(got.Values["count"]))

	_, err = s.Load(ctx, id, store.LoadOptions{Now: now.Add(idle + time.Minute), Idle: idle})
	fmt.Println(errors.Is(err, store.ErrExpired))
	// Output:
	// alice 2
	// true
}

// A user's sessions are listed with their metadata, and the per-user cap
// evicts the oldest when a new one would exceed it.
func ExampleStore_ListUser() {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	opts := store.WriteOptions{Now: now, Idle: time.Hour, MaxPerUser: 2}
	for i, agent := range []string{"laptop", "phone", "tablet"} {
		created := now.Add(time.Duration(i) * time.Minute)
		id := strings.Repeat(fmt.Sprintf("%02x", i+1), 32)
		evicted, err := s.Create(ctx, id, &store.Record{Meta: store.Meta{
			UserID: "alice", UserAgent: agent, CreatedAt: created, IssuedAt: created,
			LastSeen: now, ExpiresAt: now.Add(24 * time.Hour),
		}}, opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("created %.4s, evicted %d\n", id, len(evicted))
	}
	entries, err := s.ListUser(ctx, "alice", now)
	if err != nil {
		fmt.Println(err)
		return
	}
	var agents []string
	for _, e := range entries {
		agents = append(agents, e.Meta.UserAgent)
	}
	fmt.Println(len(agents), strings.Contains(strings.Join(agents, ","), "laptop"))
	// Output:
	// created 0101, evicted 0
	// created 0202, evicted 0
	// created 0303, evicted 1
	// 2 false
}

// Walk goes over every live session, metadata only: here an admin page's
// list of who is logged in, and a purge of the anonymous sessions, which
// fn may do as it goes since the walk holds no lock while fn runs.
func ExampleStore_Walk() {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, m := range []store.Meta{
		{UserID: "alice", Label: "Work laptop", Remembered: true, Idle: 7 * 24 * time.Hour},
		{UserID: "bob", Label: "Phone"},
		{}, {}, // anonymous
	} {
		m.CreatedAt, m.IssuedAt, m.LastSeen, m.ExpiresAt = now, now, now, now.Add(24*time.Hour)
		id := strings.Repeat(fmt.Sprintf("%02x", i+1), 32)
		if _, err := s.Create(ctx, id, &store.Record{Meta: m}, store.WriteOptions{Now: now, Idle: time.Hour}); err != nil {
			fmt.Println(err)
			return
		}
	}

	var in []string
	purged := 0
	err := s.Walk(ctx, now.Add(time.Minute), func(e store.Entry) error {
		if e.Meta.UserID == "" {
			purged++
			_, err := s.Delete(ctx, e.ID)
			return err
		}
		in = append(in, fmt.Sprintf("%s on %q (remembered %v)", e.Meta.UserID, e.Meta.Label, e.Meta.Remembered))
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	slices.Sort(in) // a walk has no order
	for _, line := range in {
		fmt.Println(line)
	}
	fmt.Println("purged", purged, "left", s.Len())
	// Output:
	// alice on "Work laptop" (remembered true)
	// bob on "Phone" (remembered false)
	// purged 2 left 2
}
