package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
)

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

// TestNodeFailed: a Cluster client reloads its slot map on the errors of
// a node that did not answer, not on a node's error reply or the caller's
// own cancellation.
func TestNodeFailed(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errRefused, true},
		{fmt.Errorf("redisstore: create: %w", errRefused), true},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{context.DeadlineExceeded, true}, // a hung master, with ContextTimeoutEnabled
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{nil, false},
		{context.Canceled, false},
		{redis.Nil, false},
		{errors.New("ERR Error running script"), false},
	} {
		assert.Equal(t, tc.want, nodeFailed(tc.err), "%v", tc.err)
	}
}

// TestReloadOnFailure: the hook asks for a reload when a command, or any
// command of a pipeline, failed because a node did not answer, and at
// most once per reloadGap however many fail.
func TestReloadOnFailure(t *testing.T) {
	ctx := context.Background()
	reloads := 0
	h := &reloadOnFailure{reload: func() { reloads++ }}
	failing := func(err error) redis.ProcessHook {
		return h.ProcessHook(func(context.Context, redis.Cmder) error { return err })
	}
	for range 100 {
		_ = failing(errRefused)(ctx, redis.NewCmd(ctx, "get", "k"))
	}
	assert.Equal(t, 1, reloads, "100 refused commands within reloadGap")
	h.last.Add(-int64(reloadGap))
	_ = failing(redis.Nil)(ctx, redis.NewCmd(ctx, "get", "k"))
	_ = failing(errors.New("NOSCRIPT No matching script"))(ctx, redis.NewCmd(ctx, "evalsha", "x", 0))
	assert.Equal(t, 1, reloads, "reply errors")
	_ = failing(context.DeadlineExceeded)(ctx, redis.NewCmd(ctx, "get", "k"))
	assert.Equal(t, 2, reloads, "a deadline run out, past reloadGap")

	// A pipeline's error is its first failing command's.
	pipeline := func(errs ...error) {
		cmds := make([]redis.Cmder, len(errs))
		for i, err := range errs {
			cmd := redis.NewCmd(ctx, "get", "k")
			cmd.SetErr(err)
			cmds[i] = cmd
		}
		_ = h.ProcessPipelineHook(func(_ context.Context, cmds []redis.Cmder) error {
			for _, cmd := range cmds {
				if cmd.Err() != nil {
					return cmd.Err()
				}
			}
			return nil
		})(ctx, cmds)
	}
	h.last.Add(-int64(reloadGap))
	pipeline(nil, redis.Nil, errors.New("NOSCRIPT No matching script"))
	assert.Equal(t, 2, reloads, "a pipeline of reply errors")
	pipeline(redis.Nil, errRefused)
	assert.Equal(t, 3, reloads, "a refused command behind a nil reply")
}

// TestLiveMasters: the masters of a CLUSTER NODES reply, slots or none,
// but for those failed, in handshake or without an address.
func TestLiveMasters(t *testing.T) {
	const nodes = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,replica.example slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 master - 0 1426238316232 5 connected
824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30006@31006 master,fail - 1426238316232 1426238316232 6 disconnected
9c1f3dbb0c9d8b6e2d5c8b8a6a7f0f7a1c1d2e3f 127.0.0.1:30007@31007 master,handshake - 0 0 0 connected
a0a1a2a3a4a5a6a7a8a9b0b1b2b3b4b5b6b7b8b9 :0@0 master,noaddr - 0 0 0 disconnected
b0b1b2b3b4b5b6b7b8b9c0c1c2c3c4c5c6c7c8c9 ::1:30008@31008 master - 0 0 8 connected
`
	assert.Equal(t, []string{"127.0.0.1:30002", "127.0.0.1:30003", "127.0.0.1:30001", "127.0.0.1:30005", "[::1]:30008"}, liveMasters(nodes))
	assert.Empty(t, liveMasters(""))
}
