package demo

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

const testRedisPW = "Demo-T3st-pw9"

// -redis-addrs takes one redis:// or rediss:// URL as well as addresses;
// a comma in a URL's password does not split it.
func TestParseRedisURL(t *testing.T) {
	for _, raw := range []string{
		"redis://:" + testRedisPW + "@10.0.0.1:6379/2",
		" rediss://app:p,w@redis.internal:6380 ",
		"redis://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000",
		"redis://10.0.0.1:26379?master_name=mymaster&password=" + testRedisPW,
	} {
		o, err := Parse("demo", []string{"-store", "redis", "-redis-addrs", raw}, io.Discard)
		require.NoError(t, err, raw)
		assert.Equal(t, []string{bytesTrim(raw)}, o.RedisAddrs)
	}
}

func bytesTrim(s string) string { return string(bytes.TrimSpace([]byte(s))) }

// A URL that is wrong, or mixed with other addresses or -redis-db, is a
// usage error, reported without the password.
func TestParseRedisURLRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-redis-addrs", "redis://:" + testRedisPW + "@h:1,h:2"}, "a comma in the host"},
		{[]string{"-redis-addrs", "h:1,redis://:" + testRedisPW + "@h:2"}, "a redis:// URL stands alone"},
		{[]string{"-redis-addrs", "redis://:" + testRedisPW + "@h:1", "-redis-db", "2"}, "the database is the URL's path"},
		{[]string{"-redis-addrs", "redis://:" + testRedisPW + "@h:1?bogus=1"}, "unexpected option: bogus"},
		{[]string{"-redis-addrs", "redis://:" + testRedisPW + "/x@h:1"}, "does not parse"},
		{[]string{"-redis-addrs", "redis://:" + testRedisPW + "@h:1/3?addr=h:2"}, "only database 0"},
	} {
		var out bytes.Buffer
		_, err := Parse("demo", append([]string{"-store", "redis"}, tc.args...), &out)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, out.String(), tc.want, "%v", tc.args)
		assert.Contains(t, out.String(), "Usage of demo", "%v", tc.args)
		assert.NotContains(t, out.String(), testRedisPW, "%v", tc.args)
		assert.NotContains(t, err.Error(), testRedisPW, "%v", tc.args)
	}
}

// -store redis with a URL: a password, an ACL user and the Cluster form
// reach a server that wants them; the session lands there.
func TestNewManagerRedisURL(t *testing.T) {
	srv := redistest.StandaloneArgs(t, "--requirepass", testRedisPW,
		"--user", "app", "on", ">"+testRedisPW, "~*", "&*", "+@all")
	cluster := redistest.SharedCluster(t).Addrs()
	for name, raw := range map[string]string{
		"password": "redis://:" + testRedisPW + "@" + srv.Addr() + "/1",
		"ACL user": "redis://app:" + testRedisPW + "@" + srv.Addr(),
		"Cluster":  "redis://" + cluster[0] + "?addr=" + cluster[1] + "&addr=" + cluster[2],
	} {
		t.Run(name, func(t *testing.T) {
			o := Defaults()
			o.Store, o.RedisAddrs, o.RedisPrefix = StoreRedis, []string{raw}, redistest.Prefix(t)
			m, closeFn, err := NewManager(o, quiet())
			require.NoError(t, err)
			defer func() { require.NoError(t, closeFn()) }()
			ctx := context.Background()
			s, err := m.Load(ctx, &core.Request{})
			require.NoError(t, err)
			require.NoError(t, s.Put("count", 1))
			_, err = m.Commit(ctx, s)
			require.NoError(t, err)
			client, err := redisstore.NewClientURL(raw)
			require.NoError(t, err)
			defer client.Close()
			n, err := client.Exists(ctx, o.RedisPrefix+s.ID()).Result()
			require.NoError(t, err)
			assert.Equal(t, int64(1), n, "the session is in Redis under the prefix")
		})
	}
}

// Without the password, or with a wrong one, the demo stops at start with
// the cause on stderr and exit status 1, and never prints the password.
func TestNewManagerRedisAuthFails(t *testing.T) {
	srv := redistest.StandaloneArgs(t, "--requirepass", testRedisPW)
	const wrong = "Wr0ng-d3mo-pw"
	for _, tc := range []struct {
		addrs []string
		want  []string
	}{
		{[]string{srv.Addr()}, []string{"redis at " + srv.Addr(), "authentication required", "NOAUTH", "redis://:PASSWORD@"}},
		{[]string{"redis://:" + wrong + "@" + srv.Addr()}, []string{"redis at redis://:xxxxx@" + srv.Addr(), "wrong password", "WRONGPASS"}},
		{[]string{"redis://app:" + testRedisPW + "@" + srv.Addr()}, []string{"redis at redis://app:xxxxx@", "wrong password"}},
	} {
		o := Defaults()
		o.Store, o.RedisAddrs = StoreRedis, tc.addrs
		m, closeFn, err := NewManager(o, quiet())
		require.Error(t, err)
		assert.Nil(t, m)
		assert.Nil(t, closeFn)
		var stderr bytes.Buffer
		assert.Equal(t, 1, exitCode("demo", err, &stderr))
		for _, w := range tc.want {
			assert.Contains(t, stderr.String(), w)
		}
		assert.NotContains(t, stderr.String(), testRedisPW)
		assert.NotContains(t, stderr.String(), wrong)
		t.Log(stderr.String())
	}
}
