package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// redisCheckTimeout bounds the start-up check of Redis.
const redisCheckTimeout = 5 * time.Second

// redisURL is the URL -redis-addrs holds, or "" when it lists addresses.
func (o Options) redisURL() string {
	if len(o.RedisAddrs) == 1 && redisstore.IsURL(o.RedisAddrs[0]) {
		return o.RedisAddrs[0]
	}
	return ""
}

// redisWhere names the Redis of the options for a message: the
// addresses, or the URL without its passwords.
func (o Options) redisWhere() string {
	if u := o.redisURL(); u != "" {
		return redisstore.RedactURL(u)
	}
	return strings.Join(o.RedisAddrs, ",")
}

// validateRedis checks -redis-addrs and -redis-db: host:port addresses,
// or one redis:// or rediss:// URL that parses (and then the database is
// the URL's). Its errors never repeat a password.
func (o Options) validateRedis() error {
	if len(o.RedisAddrs) == 0 {
		return errors.New("-redis-addrs is empty")
	}
	if o.RedisDB < 0 {
		return fmt.Errorf("-redis-db %d is negative", o.RedisDB)
	}
	urls := 0
	for _, a := range o.RedisAddrs {
		if redisstore.IsURL(a) {
			urls++
		}
	}
	switch {
	case urls == 0:
		return nil
	case len(o.RedisAddrs) > 1:
		return errors.New("-redis-addrs: a redis:// URL stands alone (a Cluster's other addresses go in it as ?addr=host:port&addr=...)")
	case o.RedisDB != 0:
		return errors.New("-redis-db: with a URL in -redis-addrs, the database is the URL's path (redis://host:port/N)")
	}
	if _, err := redisstore.ParseURL(o.RedisAddrs[0]); err != nil {
		return fmt.Errorf("-redis-addrs: %w", err)
	}
	return nil
}

// openRedisClient builds the client -redis-addrs describes and checks at
// start-up that it can serve, so that a wrong password, a missing
// rediss:// or a server that is down stops the demo with the real cause
// (redisstore.Check) instead of failing every request.
func openRedisClient(o Options) (redis.UniversalClient, error) {
	var (
		client redis.UniversalClient
		err    error
	)
	if u := o.redisURL(); u != "" {
		client, err = redisstore.NewClientURL(u)
	} else {
		client, err = redisstore.NewClient(o.RedisAddrs, o.RedisDB)
	}
	if err != nil {
		return nil, fmt.Errorf("-redis-addrs %s: %w", o.redisWhere(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), redisCheckTimeout)
	defer cancel()
	if err := redisstore.Check(ctx, client); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis at %s: %w", o.redisWhere(), err)
	}
	return client, nil
}
