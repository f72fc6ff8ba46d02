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
