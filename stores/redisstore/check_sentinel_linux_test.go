package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

const sentinelPW = "Se-3mX8qN1w"

// startSentinel starts one redis-server --sentinel of the test's own,
// monitoring the master at masterAddr as "mymaster" with masterPW, and
// wanting sentinelPW from its own clients; it stops it, by pid, when the
// test ends. (Only what Check needs: a sentinel that names the master.)
func startSentinel(t *testing.T, masterAddr, masterPW string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		redistest.Standalone(t) // skips, or fails under CI=true, as every Redis test
	}
	dir := t.TempDir()
	port := closedPort(t)
	_, p, _ := net.SplitHostPort(port)
	host, mport, _ := net.SplitHostPort(masterAddr)
	conf := filepath.Join(dir, "sentinel.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"port %s\nbind 127.0.0.1\ndir %s\nlogfile %s\nrequirepass %s\n"+
			"sentinel monitor mymaster %s %s 1\nsentinel auth-pass mymaster %s\n",
		p, dir, filepath.Join(dir, "sentinel.log"), sentinelPW, host, mport, masterPW)), 0o600))
	cmd := exec.Command(bin, conf, "--sentinel")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	c := redis.NewSentinelClient(&redis.Options{Addr: port, Password: sentinelPW, DialerRetries: 1})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.GetMasterAddrByName(ctx, "mymaster").Result()
		cancel()
		if err == nil {
			return port
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			t.Fatalf("sentinel exited at start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel on %s not ready: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCheckSentinel: through a Sentinel client, Check tells the
// sentinels' credentials from the master's, an unknown master name and
// sentinels that are not there, and passes when all is right.
func TestCheckSentinel(t *testing.T) {
	master := redistest.StandaloneArgs(t, "--requirepass", requirePW)
	sentinel := startSentinel(t, master.Addr(), requirePW)
	for _, tc := range []struct {
		name, url string
		cause     error
		where     string
	}{
		{"no sentinel password", "redis://" + sentinel + "?master_name=mymaster&password=" + requirePW,
			redisstore.ErrAuthRequired, "the sentinels"},
		{"wrong sentinel password", "redis://:" + wrongPW + "@" + sentinel + "?master_name=mymaster&password=" + requirePW,
			redisstore.ErrWrongPassword, "the sentinels"},
		{"no master password", "redis://:" + sentinelPW + "@" + sentinel + "?master_name=mymaster",
			redisstore.ErrAuthRequired, "the master"},
		{"wrong master password", "redis://:" + sentinelPW + "@" + sentinel + "?master_name=mymaster&password=" + wrongPW,
			redisstore.ErrWrongPassword, "the master"},
		{"unknown master", "redis://:" + sentinelPW + "@" + sentinel + "?master_name=yourmaster&password=" + requirePW,
			redisstore.ErrNoMaster, "the sentinels"},
		{"no sentinel there", "redis://" + closedPort(t) + "?master_name=mymaster",
			redisstore.ErrRefused, "the sentinels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := check(t, clientURL(t, tc.url), startupDeadline)
			ce := requireCause(t, err, tc.cause)
			assert.Equal(t, tc.where, ce.Addr)
			assert.NotContains(t, err.Error(), sentinelPW)
		})
	}
	// The sentinel's address as a standalone server's.
	err := check(t, clientURL(t, "redis://:"+sentinelPW+"@"+sentinel), startupDeadline)
	requireCause(t, err, redisstore.ErrSentinel, "redis_mode:sentinel", "master_name")

	good := clientURL(t, "redis://:"+sentinelPW+"@"+sentinel+"?master_name=mymaster&password="+requirePW)
	require.NoError(t, check(t, good, startupDeadline))
	roundTrip(t, good)
}
