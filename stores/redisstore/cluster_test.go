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

// TestNodeFailed: a Cluster client reloads its slot map on the errors of
// a node that did not answer, not on a node's error reply or the caller's
// own cancellation.
func TestNodeFailed(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{refused, true},
		{fmt.Errorf("redisstore: create: %w", refused), true},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{context.Canceled, false},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), false},
		{redis.Nil, false},
		{errors.New("ERR Error running script"), false},
	} {
		assert.Equal(t, tc.want, nodeFailed(tc.err), "%v", tc.err)
	}
}
