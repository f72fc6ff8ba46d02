package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start runs the server on a free loopback port until the test ends.
func start(t *testing.T, args ...string) string {
	addr, _ := startLogged(t, args...)
	return addr
}

// startLogged is start, with the server's log.
func startLogged(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), logs, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned %v before listening: %s", err, logs.String())
	}
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done, "a graceful shutdown")
	})
	return addr.String(), logs
}

// conn is one client connection, from local address from ("" for any).
type conn struct {
	t  *testing.T
	c  net.Conn
	in *bufio.Reader
}

func dial(t *testing.T, addr, from string) *conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &conn{t: t, c: c, in: bufio.NewReader(c)}
}

// say sends one line and returns the reply line.
func (c *conn) say(line string) string {
	c.t.Helper()
	_, err := c.c.Write([]byte(line + "\n"))
	require.NoError(c.t, err)
	reply, err := c.in.ReadString('\n')
	require.NoError(c.t, err, "no reply to %q", line)
	return strings.TrimSuffix(reply, "\n")
}

// token logs in and returns the token.
func (c *conn) token(line string) string {
	c.t.Helper()
	reply := c.say(line)
	tok, ok := strings.CutPrefix(reply, "OK ")
	require.True(c.t, ok, "%s: %s", line, reply)
	require.Len(c.t, tok, 43)
	return tok
}

func TestProtocol(t *testing.T) {
	addr, logs := startLogged(t)
	a := dial(t, addr, "")
	tok := a.token("LOGIN alice")
	assert.Equal(t, "OK alice", a.say("WHOAMI "+tok))
	assert.Equal(t, "OK 1", a.say("INCR "+tok))
	assert.Equal(t, "OK 2", a.say("INCR "+tok))

	// Another connection with the same token is the same session.
	b := dial(t, addr, "")
	assert.Equal(t, "OK 3", b.say("INCR "+tok))
	assert.True(t, strings.HasPrefix(b.say("REFRESH "+tok), "OK 20"), "REFRESH answers the new deadline")

	assert.Equal(t, "OK", a.say("LOGOUT "+tok))
	assert.Equal(t, "ERR invalid token", b.say("WHOAMI "+tok), "a logged-out token still works")
	assert.Equal(t, "ERR invalid token", b.say("LOGOUT "+tok))

	for line, want := range map[string]string{
		"WHOAMI garbage":                    "ERR invalid token",
		"WHOAMI " + strings.Repeat("A", 43): "ERR invalid token",
		"WHOAMI":                            "ERR usage: <command> <token>",
		"LOGIN":                             "ERR usage: LOGIN <user> [remember]",
		"LOGIN alice forever":               "ERR usage: LOGIN <user> [remember]",
		"LOGIN " + strings.Repeat("u", maxUser+1): "ERR user too long",
		"FLY me": "ERR unknown command",
	} {
		assert.Equal(t, want, b.say(line), line)
	}
	assert.NotContains(t, logs.String(), tok, "the token reached the log")
	assert.Contains(t, logs.String(), "invalid_token", "the events are logged")
	assert.Equal(t, "OK bye", b.say("QUIT"))
	_, err := b.in.ReadString('\n')
	assert.Error(t, err, "QUIT closes the connection")
}

func TestRememberedLogin(t *testing.T) {
	a := dial(t, start(t, "-idle", "1m", "-lifetime", "1h"), "")
	plain, kept := a.token("LOGIN alice"), a.token("LOGIN alice remember")
	refresh := func(tok string) time.Time {
		reply := a.say("REFRESH " + tok)
		at, err := time.Parse(time.RFC3339, strings.TrimPrefix(reply, "OK "))
		require.NoError(t, err, reply)
		return at
	}
	assert.WithinDuration(t, time.Now().Add(time.Minute), refresh(plain), 5*time.Second, "a plain session's idle timeout")
	assert.WithinDuration(t, time.Now().Add(7*24*time.Hour), refresh(kept), 5*time.Second, "a remembered session's idle timeout")
}

func TestBindingToTheLoginAddress(t *testing.T) {
	addr := start(t, "-bind", "ip")
	home := dial(t, addr, "127.0.0.1")
	tok := home.token("LOGIN alice")
	assert.Equal(t, "OK alice", home.say("WHOAMI "+tok))

	// The same token from another address: refused, and revoked for the
	// login's address too.
	elsewhere := dial(t, addr, "127.0.0.2")
	assert.Equal(t, "ERR invalid token", elsewhere.say("WHOAMI "+tok))
	assert.Equal(t, "ERR invalid token", home.say("WHOAMI "+tok), "the session outlived the mismatch")

	// Without -bind the token travels.
	free := start(t)
	tok = dial(t, free, "127.0.0.1").token("LOGIN bob")
	assert.Equal(t, "OK bob", dial(t, free, "127.0.0.2").say("WHOAMI "+tok))
}

func TestLineTooLong(t *testing.T) {
	c := dial(t, start(t), "")
	assert.Equal(t, "ERR line too long", c.say("WHOAMI "+strings.Repeat("x", maxLine)))
	_, err := c.in.ReadString('\n')
	assert.Error(t, err, "the connection is closed after a line too long")
}

func TestConnectionCap(t *testing.T) {
	addr := start(t)
	held := make([]*conn, maxConns)
	for i := range held {
		held[i] = dial(t, addr, "")
		// A reply proves the connection is being served, not queued.
		require.Equal(t, "ERR invalid token", held[i].say("WHOAMI x"), "connection %d", i)
	}
	over := dial(t, addr, "")
	line, err := over.in.ReadString('\n')
	require.NoError(t, err, "the connection over the cap is told why")
	assert.Equal(t, "ERR busy\n", line)
	_, err = over.in.ReadString('\n')
	assert.Error(t, err, "the connection over the cap is closed")

	// One leaves: its place is given again.
	assert.Equal(t, "OK bye", held[0].say("QUIT"))
	require.Eventually(t, func() bool {
		c := dial(t, addr, "")
		_, _ = c.c.Write([]byte("WHOAMI x\n"))
		line, err := c.in.ReadString('\n')
		_ = c.c.Close()
		return err == nil && line == "ERR invalid token\n"
	}, 5*time.Second, 10*time.Millisecond, "a freed place is served again")
	assert.Equal(t, "ERR invalid token", held[maxConns-1].say("WHOAMI x"), "the held connections are still served")
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-bind", "mac"}, &out, nil)
	assert.ErrorIs(t, err, errUsage)
	assert.Contains(t, out.String(), `-bind "mac": want none or ip`)
	err = run(context.Background(), []string{"-nope"}, &out, nil)
	assert.ErrorIs(t, err, errUsage)
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
