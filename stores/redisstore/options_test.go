package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// NewClient builds clients without dialling, so these need no server.
func TestNewClient(t *testing.T) {
	one, err := redisstore.NewClient([]string{"127.0.0.1:1"}, 3)
	require.NoError(t, err)
	t.Cleanup(func() { one.Close() })
	c, ok := one.(*redis.Client)
	require.True(t, ok, "one address: a standalone client, got %T", one)
	assert.Equal(t, 3, c.Options().DB)
	assert.True(t, c.Options().ContextTimeoutEnabled, "context deadlines bound network waits")

	many, err := redisstore.NewClient([]string{"127.0.0.1:1", "127.0.0.1:2"}, 0)
	require.NoError(t, err)
	t.Cleanup(func() { many.Close() })
	_, ok = many.(*redis.ClusterClient)
	assert.True(t, ok, "several addresses: a cluster client, got %T", many)

	sentinel, err := redisstore.NewClient([]string{"127.0.0.1:1", "127.0.0.1:2"}, 2,
		func(o *redis.UniversalOptions) { o.MasterName = "mymaster" })
	require.NoError(t, err)
	t.Cleanup(func() { sentinel.Close() })
	_, ok = sentinel.(*redis.Client)
	assert.True(t, ok, "MasterName: a failover client, got %T", sentinel)

	for name, f := range map[string]func() (redis.UniversalClient, error){
		"none":         func() (redis.UniversalClient, error) { return redisstore.NewClient(nil, 0) },
		"empty":        func() (redis.UniversalClient, error) { return redisstore.NewClient([]string{""}, 0) },
		"cluster db 1": func() (redis.UniversalClient, error) { return redisstore.NewClient([]string{"a:1", "b:2"}, 1) },
	} {
		c, err := f()
		assert.Error(t, err, name)
		assert.Nil(t, c, name)
	}
}

func TestNewRejectsNilClient(t *testing.T) {
	s, err := redisstore.New(nil, redisstore.Options{})
	assert.Error(t, err)
	assert.Nil(t, s)
}
