package redisstore_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// Passwords distinctive enough that finding one in a message is a leak.
const (
	requirePW = "Rq-9f2kQ7xv"
	alicePW   = "Al-4hT8mZ2p"
	bobPW     = "Bo-7cW3nY5s"
	carlPW    = "Ca-2gR6dK9u"
	wrongPW   = "Wr-5jL1bV8e"
)

// aclArgs configure a server as production would: the default user's
// password (requirepass) and ACL users: alice may do anything, bob may
// not even PING, carl is disabled.
var aclArgs = []string{
	"--requirepass", requirePW,
	"--user", "alice", "on", ">" + alicePW, "~*", "&*", "+@all",
	"--user", "bob", "on", ">" + bobPW, "-@all",
	"--user", "carl", "off", ">" + carlPW, "~*", "+@all",
}

// clientURL builds a client from a URL, closed when the test ends.
func clientURL(t *testing.T, raw string, configure ...func(*redis.UniversalOptions)) redis.UniversalClient {
	t.Helper()
	c, err := redisstore.NewClientURL(raw, configure...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// startupDeadline bounds a Check that ends as soon as the server answers
// (or refuses): generous, since the cause, not the time, is under test,
// and a loaded machine took 7.6 s for a TLS handshake's failure once.
// Checks whose outcome is a timeout pass their own, short, deadline.
const startupDeadline = 20 * time.Second

// check runs Check with a deadline, as an application's start-up would.
func check(t *testing.T, c redis.UniversalClient, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	err := redisstore.Check(ctx, c)
	t.Logf("Check took %v: %v", time.Since(start).Round(time.Millisecond), err)
	return err
}

// requireCause requires err to be a *CheckError with cause, and its text
// to hold each of want and none of the test's passwords.
func requireCause(t *testing.T, err, cause error, want ...string) *redisstore.CheckError {
	t.Helper()
	require.Error(t, err)
	var ce *redisstore.CheckError
	require.ErrorAs(t, err, &ce)
	require.ErrorIs(t, err, cause, "%v", err)
	assert.Equal(t, cause, ce.Cause)
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
	noPasswords(t, err.Error())
	return ce
}

func noPasswords(t *testing.T, s string) {
	t.Helper()
	for _, pw := range []string{requirePW, alicePW, bobPW, carlPW, wrongPW} {
		assert.NotContains(t, s, pw, "a password in a message")
	}
}

// roundTrip requires a store on c to keep a session.
func roundTrip(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	roundTripPrefix(t, c, redistest.Prefix(t))
}

func roundTripPrefix(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Helper()
	st, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	now := time.Now()
	id := create(t, st, now, "u1", "k", "v")
	rec, err := st.Load(context.Background(), id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, "v", string(rec.Values["k"]))
}

// TestCheckAuth: on a server with a password and ACL users, Check names
// each way of getting the credentials wrong, and passes the right ones.
func TestCheckAuth(t *testing.T) {
	srv := redistest.StandaloneArgs(t, aclArgs...)
	addr := srv.Addr()
	for _, tc := range []struct {
		name, url string
		cause     error
		want      []string
	}{
		{"no password", "redis://" + addr, redisstore.ErrAuthRequired, []string{"authentication required", "NOAUTH", addr, "redis://:PASSWORD@"}},
		{"wrong password", "redis://:" + wrongPW + "@" + addr, redisstore.ErrWrongPassword, []string{"WRONGPASS", addr}},
		{"wrong ACL password", "redis://alice:" + wrongPW + "@" + addr, redisstore.ErrWrongPassword, []string{"WRONGPASS"}},
		{"unknown ACL user", "redis://nobody:" + alicePW + "@" + addr, redisstore.ErrWrongPassword, []string{"WRONGPASS"}},
		{"disabled ACL user", "redis://carl:" + carlPW + "@" + addr, redisstore.ErrWrongPassword, []string{"WRONGPASS"}},
		{"ACL user without PING", "redis://bob:" + bobPW + "@" + addr, redisstore.ErrNoPermission, []string{"NOPERM", "ping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := check(t, clientURL(t, tc.url), startupDeadline)
			ce := requireCause(t, err, tc.cause, tc.want...)
			assert.Equal(t, addr, ce.Addr)
		})
	}
	for _, tc := range []struct{ name, url string }{
		{"requirepass", "redis://:" + requirePW + "@" + addr},
		{"default user by name", "redis://default:" + requirePW + "@" + addr},
		{"ACL user", "redis://alice:" + alicePW + "@" + addr + "/2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clientURL(t, tc.url)
			require.NoError(t, check(t, c, startupDeadline))
			roundTrip(t, c)
		})
	}
	t.Run("options", func(t *testing.T) {
		c, err := redisstore.NewClient([]string{addr}, 0, func(o *redis.UniversalOptions) { o.Username, o.Password = "alice", alicePW })
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, check(t, c, startupDeadline))
	})
}

// TestCheckACLOnly: a server whose default user is off (ACL users only,
// no requirepass) wants a user too.
func TestCheckACLOnly(t *testing.T) {
	srv := redistest.StandaloneArgs(t, "--user", "default", "off", "--user", "alice", "on", ">"+alicePW, "~*", "&*", "+@all")
	requireCause(t, check(t, clientURL(t, "redis://"+srv.Addr()), startupDeadline), redisstore.ErrAuthRequired, "NOAUTH")
	requireCause(t, check(t, clientURL(t, "redis://:"+alicePW+"@"+srv.Addr()), startupDeadline), redisstore.ErrWrongPassword)
	require.NoError(t, check(t, clientURL(t, "redis://alice:"+alicePW+"@"+srv.Addr()), startupDeadline))
}

// TestCheckNamesTheNewcomersError: without Check, a store on a server
// that wants a password fails its first write with Redis's "Protocol
// error: unauthenticated multibulk length" (the write sends more than ten
// arguments before authenticating, and Redis closes the connection):
// the error of issue 14. Check, run first, says what it means.
func TestCheckNamesTheNewcomersError(t *testing.T) {
	srv := redistest.StandaloneArgs(t, "--requirepass", requirePW)
	c := clientURL(t, "redis://"+srv.Addr())
	st, err := redisstore.New(c, redisstore.Options{})
	require.NoError(t, err)
	now := time.Now()
	_, err = st.Create(context.Background(), newID(t),
		&store.Record{Meta: meta(now, "u1"), Values: map[string][]byte{"k": []byte("v")}}, wopts(now))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unauthenticated multibulk length", "the error the newcomer saw")
	assert.ErrorIs(t, redisstore.CauseOf(err), redisstore.ErrAuthRequired, "the same cause as NOAUTH")

	requireCause(t, check(t, c, startupDeadline), redisstore.ErrAuthRequired)
}

// TestCheckTLS: on a server with a TLS port (and a password, and an ACL
// user), Check tells a missing rediss:// from TLS to a plain port, an
// untrusted certificate, a wrong name and a missing client certificate.
func TestCheckTLS(t *testing.T) {
	srv := redistest.StandaloneTLS(t, aclArgs...)
	withCA := func(o *redis.UniversalOptions) { o.TLSConfig.RootCAs = srv.RootCAs }
	_, tlsPort, err := net.SplitHostPort(srv.TLSAddr)
	require.NoError(t, err)
	userinfo := "alice:" + alicePW + "@"

	t.Run("plain client, TLS port", func(t *testing.T) {
		err := check(t, clientURL(t, "redis://"+userinfo+srv.TLSAddr), startupDeadline)
		requireCause(t, err, redisstore.ErrTLSRequired, "rediss://", srv.TLSAddr)
	})
	t.Run("TLS client, plain port", func(t *testing.T) {
		err := check(t, clientURL(t, "rediss://"+userinfo+srv.Addr(), withCA), 2*time.Second)
		requireCause(t, err, redisstore.ErrNotTLS, "redis://", srv.Addr())
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		err := check(t, clientURL(t, "rediss://"+userinfo+srv.TLSAddr), startupDeadline)
		requireCause(t, err, redisstore.ErrTLSCertificate, "unknown authority", "RootCAs")
	})
	t.Run("wrong name", func(t *testing.T) {
		err := check(t, clientURL(t, "rediss://"+userinfo+srv.TLSAddr, withCA,
			func(o *redis.UniversalOptions) { o.TLSConfig.ServerName = "redis.example.com" }), startupDeadline)
		requireCause(t, err, redisstore.ErrTLSCertificate, "redis.example.com")
	})
	t.Run("wrong password over TLS", func(t *testing.T) {
		err := check(t, clientURL(t, "rediss://alice:"+wrongPW+"@"+srv.TLSAddr, withCA), startupDeadline)
		requireCause(t, err, redisstore.ErrWrongPassword)
	})
	for _, raw := range []string{
		"rediss://" + userinfo + srv.TLSAddr,
		"rediss://" + userinfo + "localhost:" + tlsPort,
		"rediss://:" + requirePW + "@" + srv.TLSAddr + "/1",
	} {
		t.Run("ok "+redisstore.RedactURL(raw), func(t *testing.T) {
			c := clientURL(t, raw, withCA)
			require.NoError(t, check(t, c, startupDeadline))
			roundTrip(t, c)
		})
	}
	t.Run("skip_verify", func(t *testing.T) {
		require.NoError(t, check(t, clientURL(t, "rediss://"+userinfo+srv.TLSAddr+"?skip_verify=true"), startupDeadline))
	})

	t.Run("client certificate", func(t *testing.T) {
		mtls := redistest.StandaloneTLS(t, "--tls-auth-clients", "yes")
		withCA := func(o *redis.UniversalOptions) { o.TLSConfig.RootCAs = mtls.RootCAs }
		err := check(t, clientURL(t, "rediss://"+mtls.TLSAddr, withCA), startupDeadline)
		requireCause(t, err, redisstore.ErrTLSHandshake, "certificate required", "TLSConfig.Certificates")
		// TLS 1.2 hears of it during the handshake.
		err = check(t, clientURL(t, "rediss://"+mtls.TLSAddr, withCA,
			func(o *redis.UniversalOptions) { o.TLSConfig.MaxVersion = tls.VersionTLS12 }), startupDeadline)
		requireCause(t, err, redisstore.ErrTLSHandshake)
		c := clientURL(t, "rediss://"+mtls.TLSAddr, withCA,
			func(o *redis.UniversalOptions) { o.TLSConfig.Certificates = []tls.Certificate{mtls.ClientCert} })
		require.NoError(t, check(t, c, startupDeadline))
	})
}

// TestCheckNetwork: nothing listening, a listener that never answers, a
// name that does not resolve.
func TestCheckNetwork(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		addr := closedPort(t)
		err := check(t, clientURL(t, "redis://"+addr), startupDeadline)
		requireCause(t, err, redisstore.ErrRefused, addr, "is Redis running")
		// TLS asked for, and nothing there: still refused.
		err = check(t, clientURL(t, "rediss://"+addr), startupDeadline)
		requireCause(t, err, redisstore.ErrRefused)
	})
	t.Run("silent", func(t *testing.T) {
		// A listener of the test's own that accepts and never answers,
		// as a firewall that drops packets would look.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			var held []net.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				held = append(held, c)
			}
		}()
		start := time.Now()
		err = check(t, clientURL(t, "redis://"+ln.Addr().String()), time.Second)
		requireCause(t, err, redisstore.ErrTimeout)
		assert.Less(t, time.Since(start), 4*time.Second, "the deadline bounds Check")
		err = check(t, clientURL(t, "rediss://"+ln.Addr().String()), time.Second)
		requireCause(t, err, redisstore.ErrTimeout, "a TLS client on a plain port")
	})
	t.Run("no such host", func(t *testing.T) {
		err := check(t, clientURL(t, "redis://no-such-host.invalid:6379"), startupDeadline)
		requireCause(t, err, redisstore.ErrNoSuchHost, "no-such-host.invalid")
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := redisstore.Check(ctx, clientURL(t, "redis://"+closedPort(t)))
		require.Error(t, err)
	})
	t.Run("nil client", func(t *testing.T) {
		assert.Error(t, redisstore.Check(context.Background(), nil))
	})
}

// closedPort is a loopback address nothing listens on: a port the test
// held a moment ago.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestCheckCluster: Check loads the slots and pings every node, naming
// the node at fault; it tells a Cluster client on a standalone server
// and a standalone client on a Cluster node.
func TestCheckCluster(t *testing.T) {
	cluster := redistest.NewCluster(t)
	addrs := cluster.Addrs()
	// Passwords set after the cluster formed: the cluster bus does not
	// use them. The last node gets another one.
	for i, a := range addrs {
		pw := requirePW
		if i == len(addrs)-1 {
			pw = alicePW
		}
		c := redis.NewClient(&redis.Options{Addr: a})
		require.NoError(t, c.ConfigSet(context.Background(), "requirepass", pw).Err())
		c.Close()
	}
	seeds := "redis://" + addrs[0] + "?addr=" + addrs[1]
	withPW := "redis://:" + requirePW + "@" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]

	err := check(t, clientURL(t, seeds), startupDeadline)
	requireCause(t, err, redisstore.ErrAuthRequired, "NOAUTH")

	err = check(t, clientURL(t, withPW), startupDeadline)
	ce := requireCause(t, err, redisstore.ErrWrongPassword, addrs[2])
	assert.Equal(t, addrs[2], ce.Addr, "the node whose password differs")

	c := redis.NewClient(&redis.Options{Addr: addrs[2], Password: alicePW})
	require.NoError(t, c.ConfigSet(context.Background(), "requirepass", requirePW).Err())
	c.Close()
	good := clientURL(t, withPW)
	require.NoError(t, check(t, good, startupDeadline))
	roundTrip(t, good)

	// The README's ACL user, on every node, is enough for the Cluster
	// client (CLUSTER SLOTS) and the store.
	for _, a := range addrs {
		setACLUser(t, a, requirePW)
	}
	app := clientURL(t, "redis://app:"+alicePW+"@"+addrs[0]+"?addr="+addrs[1])
	require.NoError(t, check(t, app, startupDeadline))
	roundTripPrefix(t, app, "myapp:"+redistest.Prefix(t))

	// A standalone client on one node.
	err = check(t, clientURL(t, "redis://:"+requirePW+"@"+addrs[0]), startupDeadline)
	requireCause(t, err, redisstore.ErrClusterNode, "redis_mode:cluster", "several addresses")

	// A Cluster client on a standalone server.
	plain := redistest.SharedStandalone(t)
	err = check(t, clientURL(t, "redis://"+plain.Addr()+"?addr="+plain.Addr()), startupDeadline)
	requireCause(t, err, redisstore.ErrNotCluster, "cluster support disabled")
	// Seeds that refuse.
	gone := closedPort(t)
	err = check(t, clientURL(t, "redis://"+gone+"?addr="+closedPort(t)), startupDeadline)
	requireCause(t, err, redisstore.ErrRefused, gone)
}

// TestCheckErrorText: the message has the address, the cause, what Redis
// said and the hint, in that order; Unwrap gives both errors.
func TestCheckErrorText(t *testing.T) {
	inner := errors.New("NOAUTH Authentication required.")
	e := &redisstore.CheckError{Cause: redisstore.ErrAuthRequired, Addr: "10.0.0.1:6379", Err: inner}
	msg := e.Error()
	assert.True(t, strings.HasPrefix(msg, "redisstore: Redis at 10.0.0.1:6379: authentication required: NOAUTH Authentication required.; give the password"), msg)
	assert.ErrorIs(t, e, inner)
	assert.ErrorIs(t, e, redisstore.ErrAuthRequired)
	assert.NotErrorIs(t, e, redisstore.ErrWrongPassword)
	plain := &redisstore.CheckError{Err: errors.New("LOADING Redis is loading the dataset in memory")}
	assert.Equal(t, "redisstore: Redis: LOADING Redis is loading the dataset in memory", plain.Error())
}
