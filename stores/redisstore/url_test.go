package redisstore_test

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// TestParseURLForms: each URL form gives the options of its kind of
// client, with NewClient's defaults.
func TestParseURLForms(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want redis.UniversalOptions
	}{
		{"redis://127.0.0.1:6379", redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}}},
		{"redis://redis.internal", redis.UniversalOptions{Addrs: []string{"redis.internal:6379"}}},
		{"redis://:s3cret@10.0.0.1:6380/3", redis.UniversalOptions{Addrs: []string{"10.0.0.1:6380"}, Password: "s3cret", DB: 3}},
		{"redis://app:s3cret@10.0.0.1:6380", redis.UniversalOptions{Addrs: []string{"10.0.0.1:6380"}, Username: "app", Password: "s3cret"}},
		{"redis://app:p%40ss%3Aw%2Frd@10.0.0.1:6380", redis.UniversalOptions{Addrs: []string{"10.0.0.1:6380"}, Username: "app", Password: "p@ss:w/rd"}},
		{"redis://[::1]:7000", redis.UniversalOptions{Addrs: []string{"[::1]:7000"}}},
		{"redis://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000", redis.UniversalOptions{
			Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}, IsClusterMode: true}},
		{"redis://app:s3cret@10.0.0.1:7000/0?addr=10.0.0.2:7000", redis.UniversalOptions{
			Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000"}, Username: "app", Password: "s3cret", IsClusterMode: true}},
		{"redis://10.0.0.1:26379/2?master_name=mymaster&addr=10.0.0.2:26379&password=s3cret", redis.UniversalOptions{
			Addrs: []string{"10.0.0.1:26379", "10.0.0.2:26379"}, MasterName: "mymaster", Password: "s3cret", DB: 2}},
		{"redis://sentinel:spw@10.0.0.1:26379?master_name=mymaster&username=app&password=s3cret", redis.UniversalOptions{
			Addrs: []string{"10.0.0.1:26379"}, MasterName: "mymaster", SentinelUsername: "sentinel", SentinelPassword: "spw",
			Username: "app", Password: "s3cret"}},
	} {
		t.Run(tc.url, func(t *testing.T) {
			o, err := redisstore.ParseURL(tc.url)
			require.NoError(t, err)
			want := tc.want
			want.ContextTimeoutEnabled, want.DialerRetries = true, 1
			assert.Equal(t, &want, o)
		})
	}
}

// TestParseURLTLS: rediss:// turns TLS on, verifying the certificate for
// the URL's host, in every form.
func TestParseURLTLS(t *testing.T) {
	for _, raw := range []string{
		"rediss://:pw@redis.example.com:6380",
		"rediss://:pw@redis.example.com:6380?addr=redis2.example.com:6380",
		"rediss://redis.example.com:26379?master_name=m&password=pw",
	} {
		o, err := redisstore.ParseURL(raw)
		require.NoError(t, err, raw)
		require.NotNil(t, o.TLSConfig, raw)
		assert.Equal(t, "redis.example.com", o.TLSConfig.ServerName, raw)
		assert.False(t, o.TLSConfig.InsecureSkipVerify, raw)
	}
	o, err := redisstore.ParseURL("rediss://127.0.0.1:6380?skip_verify=true")
	require.NoError(t, err)
	assert.True(t, o.TLSConfig.InsecureSkipVerify)
	o, err = redisstore.ParseURL("redis://127.0.0.1:6380")
	require.NoError(t, err)
	assert.Nil(t, o.TLSConfig, "redis:// is plain")
}

// TestParseURLDefaults: the URL may set the two defaults back where
// go-redis reads them.
func TestParseURLDefaults(t *testing.T) {
	o, err := redisstore.ParseURL("redis://h:1?addr=h:2&dialer_retries=5")
	require.NoError(t, err)
	assert.Equal(t, 5, o.DialerRetries)
	assert.True(t, o.ContextTimeoutEnabled)
	o, err = redisstore.ParseURL("redis://h:1?master_name=m&context_timeout_enabled=false&dialer_retries=0")
	require.NoError(t, err)
	assert.False(t, o.ContextTimeoutEnabled)
	assert.Equal(t, 0, o.DialerRetries)
}

// TestNewClientURLKinds: the client is of the URL's kind, carries every
// option the URL set (compared with go-redis's own parser), and configure
// runs last.
func TestNewClientURLKinds(t *testing.T) {
	const simple = "redis://app:pw@127.0.0.1:1/2?dial_timeout=2s&read_timeout=1500ms&write_timeout=1&pool_size=7" +
		"&max_idle_conns=3&max_active_conns=9&conn_max_idle_time=1m&conn_max_lifetime=1h" +
		"&max_retries=4&min_retry_backoff=10ms&max_retry_backoff=1s&pool_fifo=true&pool_timeout=2s" +
		"&client_name=sk&protocol=2&max_concurrent_dials=2"
	c, err := redisstore.NewClientURL(simple, func(o *redis.UniversalOptions) { o.PoolSize = 8 })
	require.NoError(t, err)
	defer c.Close()
	require.IsType(t, &redis.Client{}, c)
	got := c.(*redis.Client).Options()
	want, err := redis.ParseURL(simple)
	require.NoError(t, err)
	want.PoolSize = 8 // configure's
	sameSetFields(t, want, got, "ContextTimeoutEnabled", "DialerRetries")
	assert.True(t, got.ContextTimeoutEnabled)
	assert.Equal(t, 1, got.DialerRetries)

	const cluster = "redis://app:pw@127.0.0.1:1?addr=127.0.0.1:2&dial_timeout=2s&read_only=true" +
		"&max_redirects=5&route_by_latency=true&pool_size=5&conn_max_idle_time=1m&dialer_retries=3&failing_timeout_seconds=9"
	cc, err := redisstore.NewClientURL(cluster)
	require.NoError(t, err)
	defer cc.Close()
	require.IsType(t, &redis.ClusterClient{}, cc)
	wantC, err := redis.ParseClusterURL(cluster)
	require.NoError(t, err)
	sameSetFields(t, wantC, cc.(*redis.ClusterClient).Options(), "ContextTimeoutEnabled")
	// A Cluster client follows failovers as NewClient's does.
	assert.Equal(t, redisstore.ClusterReloadInterval, cc.(*redis.ClusterClient).Options().ClusterStateReloadInterval)

	// One address, made a cluster by configure: a managed cluster's
	// configuration endpoint.
	one, err := redisstore.NewClientURL("redis://127.0.0.1:1", func(o *redis.UniversalOptions) { o.IsClusterMode = true })
	require.NoError(t, err)
	defer one.Close()
	if assert.IsType(t, &redis.ClusterClient{}, one) {
		assert.Equal(t, redisstore.ClusterReloadInterval, one.(*redis.ClusterClient).Options().ClusterStateReloadInterval)
	}

	fc, err := redisstore.NewClientURL("redis://127.0.0.1:1?master_name=mymaster&password=pw")
	require.NoError(t, err)
	defer fc.Close()
	require.IsType(t, &redis.Client{}, fc)
	assert.Equal(t, "FailoverClient", fc.(*redis.Client).Options().Addr, "go-redis's Sentinel client")
	assert.Equal(t, "pw", fc.(*redis.Client).Options().Password)

	_, err = redisstore.NewClientURL("redis://127.0.0.1:1/3", func(o *redis.UniversalOptions) { o.IsClusterMode = true })
	assert.ErrorContains(t, err, "Redis Cluster has only database 0")
}

// sameSetFields requires every field want has set (non-zero) to hold the
// same value in got, but for those named in except. Function fields are
// skipped (go-redis sets its own dialer).
func sameSetFields(t *testing.T, want, got any, except ...string) {
	t.Helper()
	wv, gv := reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()
	n := 0
	for i := 0; i < wv.NumField(); i++ {
		f := wv.Type().Field(i)
		if !f.IsExported() || f.Type.Kind() == reflect.Func || wv.Field(i).IsZero() {
			continue
		}
		skip := false
		for _, e := range except {
			skip = skip || e == f.Name
		}
		if skip {
			continue
		}
		n++
		if f.Name == "TLSConfig" {
			continue
		}
		assert.Equal(t, wv.Field(i).Interface(), gv.FieldByName(f.Name).Interface(), "field %s", f.Name)
	}
	assert.Greater(t, n, 5, "the URL set several fields")
}

// TestParseURLRefuses: what would connect somewhere else than meant is
// an error.
func TestParseURLRefuses(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"127.0.0.1:6379", "not a Redis URL"},
		{"http://127.0.0.1:6379", `scheme "http"`},
		{"unix:///run/redis.sock", `scheme "unix"`},
		{"redis://", "no host"},
		{"redis:127.0.0.1:6379", "not a Redis URL"},
		{"redis:///0", "no host"},
		{"redis://h:1/3?addr=h:2", "Redis Cluster has only database 0"},
		{"redis://h:1,h:2", "a comma in the host"},
		{"redis://h:1/x", "invalid database number"},
		{"redis://h:1?bogus=1", "unexpected option: bogus"},
		{"redis://h:1?addr=h", "unable to parse addr param"},
		{"redis://h:1?master_name=", "master_name is empty"},
		{"redis://h:1?master_name=m&replica_only=true", "writes to the master"},
		{"redis://h:1?skip_verify=true&addr=h:2", "unexpected option: skip_verify"},
	} {
		_, err := redisstore.ParseURL(tc.url)
		assert.ErrorContains(t, err, tc.want, tc.url)
		_, err = redisstore.NewClientURL(tc.url)
		assert.ErrorContains(t, err, tc.want, tc.url)
	}
}

// TestURLErrorsHoldNoPassword: no error of ParseURL or NewClientURL, and
// no RedactURL, shows a password, however the URL is broken.
func TestURLErrorsHoldNoPassword(t *testing.T) {
	const pw = "S3cr3tPw"
	for _, raw := range []string{
		"redis://:" + pw + "@h:notaport",
		"redis://:" + pw + "/x@h:6379",     // a "/" in the password ends the host early
		"redis://:" + pw + "%zz@h:6379",    // a bad escape
		"redis://:" + pw + "@h:6379/x",     // go-redis: bad database
		"redis://:" + pw + "@h:6379?bogus", // go-redis: unknown option
		"redis://:" + pw + "@h:6379?dial_timeout=" + pw,
		"redis://app:" + pw + "@h:6379?pool_size=" + pw,
		"redis://h:1?master_name=m&password=" + pw + "&bogus=1",
		"redis://h:1?master_name=m&password=" + pw + "&dial_timeout=" + pw,
		"redis://h:1?master_name=m&password=" + pw + "&replica_only=true",
		"http://:" + pw + "@h:6379",
		"redis://:" + pw + "@",
		"redis://:" + pw + "@h:1/3?addr=h:2",
		"rediss://:" + pw + "@h:1?addr=" + pw,
		"redis:" + pw,
	} {
		_, err := redisstore.ParseURL(raw)
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), pw, raw)
		assert.NotContains(t, err.Error(), pw[:4], raw)
		_, err = redisstore.NewClientURL(raw)
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), pw[:4], raw)
		assert.NotContains(t, redisstore.RedactURL(raw), pw[:4], raw)
		t.Logf("%s\n\t%v", redisstore.RedactURL(raw), err)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://app:s3cret@h:6379/1":                       "redis://app:xxxxx@h:6379/1",
		"redis://:s3cret@h:6379":                            "redis://:xxxxx@h:6379",
		"rediss://h:6379":                                   "rediss://h:6379",
		"redis://app@h:6379":                                "redis://app@h:6379",
		"redis://h:1?master_name=m&password=s3cret":         "redis://h:1?master_name=m&password=xxxxx",
		"redis://h:1?addr=h:2":                              "redis://h:1?addr=h:2",
		"redis://:" + url.QueryEscape("p@ss/w:rd") + "@h:1": "redis://:xxxxx@h:1",
	} {
		assert.Equal(t, want, redisstore.RedactURL(raw), raw)
	}
	assert.NotContains(t, redisstore.RedactURL("redis://:s3cret/x@h"), "s3cret")
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"redis://h:1": true, "rediss://h:1": true, "REDIS://h:1": true, " redis://h": true,
		"h:6379": false, "127.0.0.1:6379": false, "": false, "unix:///x": false,
	} {
		assert.Equal(t, want, redisstore.IsURL(s), s)
	}
}
