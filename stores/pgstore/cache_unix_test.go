//go:build unix

package pgstore_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// A listening connection that falls silent (its backend stopped with
// SIGSTOP, as a stalled server or a dead network path would leave it) is
// given up by the next heartbeat: the cache turns off, before MaxStaleness
// would have ended its entries, and a new connection listens once the
// server answers again.
func TestCacheSilentListener(t *testing.T) {
	t.Parallel()
	const staleness = 8 * time.Second // a heartbeat of 1s: given up within 3s
	a, _ := cachedPair(t, pgstore.CacheOptions{MaxStaleness: staleness})
	now := time.Now()
	id := create(t, a.s, now, "", "k", "v")
	a.cached(t, id, now)
	pid := int(pgstore.ListenerPID(a.s))
	require.NotZero(t, pid)
	proc, err := os.FindProcess(pid)
	require.NoError(t, err)
	require.NoError(t, proc.Signal(syscall.SIGSTOP))
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			assert.NoError(t, proc.Signal(syscall.SIGCONT))
		}
	}
	t.Cleanup(resume)
	took, ok := until(listenTimeout, func() bool { return !a.s.CacheStats().Listening })
	require.True(t, ok, "the cache still serves with its listener's backend stopped")
	t.Logf("a silent listener turned the cache off after %v (heartbeat %v)", took, pgstore.Heartbeat(staleness))
	assert.Less(t, took, staleness, "given up before MaxStaleness")
	assert.Zero(t, a.s.CacheStats().Entries)
	resume()
	require.True(t, pgstore.WaitListening(a.s, listenTimeout), "the cache never came back")
	assert.NotEqual(t, pid, int(pgstore.ListenerPID(a.s)))
}
