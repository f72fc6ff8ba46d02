package nearcache

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRedialPaces(t *testing.T) {
	var r Redial
	ctx := context.Background()
	var got []time.Duration
	for _, worked := range []bool{false, false, false, true, false} {
		assert.True(t, r.Wait(ctx, worked))
		got = append(got, r.pause)
	}
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond,
		10 * time.Millisecond, 20 * time.Millisecond}, got, "doubling while attempts fail, short again after one that worked")
	for range 10 {
		r.pause = min(2*r.pause, time.Second)
	}
	assert.Equal(t, time.Second, r.pause)
	r.Wait(ctx, false)
	assert.Equal(t, time.Second, r.pause, "never above a second")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	assert.False(t, r.Wait(cancelled, false), "a context that ended stops the wait")
	assert.Less(t, time.Since(start), 500*time.Millisecond)
}
