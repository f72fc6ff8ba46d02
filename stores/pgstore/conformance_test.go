package pgstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// The conformance suite, unchanged, each test on a store in a schema of
// its own, with a janitor sweeping every 100ms: it deletes what the
// real-time tests let expire while they run, and must never delete what
// is live.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _, _ := newStore(t, pgstore.Options{JanitorInterval: 100 * time.Millisecond})
		return s
	})
}

// The conformance suite with the near cache on: every Load that may be
// answered from the cache is, and the suite's checks of what a Load sees
// after writes, expiry and revocations still hold.
func TestConformanceCached(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _, _ := newStore(t, pgstore.Options{JanitorInterval: 100 * time.Millisecond, Cache: &pgstore.CacheOptions{}})
		require.True(t, pgstore.WaitListening(s, listenTimeout), "the cache never came on")
		return s
	})
}
