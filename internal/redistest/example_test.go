package redistest_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/internal/redistest"
)

// A test that stops or inspects its Redis starts one of its own on a free
// loopback port; it is stopped when the test ends. The helpers need the
// testing.TB that go test makes, so this example is compiled, not run.
func ExampleStandalone() {
	restartSurvives := func(t *testing.T) {
		srv := redistest.Standalone(t)
		client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		defer client.Close()
		ctx := context.Background()
		if err := client.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := srv.Stop(); err != nil { // SIGTERM; Kill is SIGKILL
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil { // the same port again
			t.Fatal(err)
		}
	}
	_ = restartSurvives
}
