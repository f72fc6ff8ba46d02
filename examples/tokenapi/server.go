package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// Bounds on what a client can make the server hold.
const (
	// maxLine is the longest command line: a token is 43 bytes.
	maxLine = 4 << 10
	// maxConns is how many connections are served at once; more are told
	// so and closed.
	maxConns = 256
	// maxUser is the longest user id a login takes, in bytes.
	maxUser = 256
)

// server answers the line protocol with a session manager.
type server struct {
	m    *core.Manager
	log  *slog.Logger
	idle time.Duration // a connection silent this long is closed

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// serve accepts connections until ctx ends, then closes them all and
// waits for their goroutines.
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	s.conns = map[net.Conn]struct{}{}
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !s.track(c) {
			_, _ = c.Write([]byte("ERR busy\n"))
			_ = c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.untrack(c)
			s.handle(ctx, c)
		}()
	}
}

func (s *server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) >= maxConns {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
}

// handle answers one connection's commands, one line each.
func (s *server) handle(ctx context.Context, c net.Conn) {
	client := core.Client{UserAgent: "tokenapi-client", IP: remoteIP(c)}
	in := bufio.NewScanner(c)
	in.Buffer(make([]byte, 0, 256), maxLine)
	out := bufio.NewWriter(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.idle))
		if !in.Scan() {
			if errors.Is(in.Err(), bufio.ErrTooLong) {
				_, _ = out.WriteString("ERR line too long\n")
				_ = out.Flush()
			}
			return
		}
		reply, quit := s.command(ctx, client, in.Text())
		_, _ = out.WriteString(reply + "\n")
		if err := out.Flush(); err != nil || quit {
			return
		}
	}
}

// command runs one command line and returns its reply.
func (s *server) command(ctx context.Context, client core.Client, line string) (reply string, quit bool) {
	verb, rest, _ := strings.Cut(strings.TrimRight(line, "\r"), " ")
	args := strings.Fields(rest)
	switch strings.ToUpper(verb) {
	case "LOGIN":
		if len(args) < 1 || len(args) > 2 || (len(args) == 2 && args[1] != "remember") {
			return "ERR usage: LOGIN <user> [remember]", false
		}
		if len(args[0]) > maxUser {
			return "ERR user too long", false
		}
		tok, err := s.m.IssueToken(ctx, args[0], core.LoginOptions{Remember: len(args) == 2}, client)
		return s.answer(tok, err), false
	case "WHOAMI":
		return s.withSession(ctx, client, args, func(sess *core.Session) (string, error) {
			return sess.UserID(), nil
		}), false
	case "INCR":
		return s.withSession(ctx, client, args, func(sess *core.Session) (string, error) {
			n, _ := core.Get[int64](sess, "count")
			n++
			if err := sess.Put("count", n); err != nil {
				return "", err
			}
			return fmt.Sprint(n), nil
		}), false
	case "REFRESH":
		if len(args) != 1 {
			return "ERR usage: REFRESH <token>", false
		}
		tok, err := s.m.RefreshToken(ctx, args[0], client)
		if err != nil {
			return s.answer("", err), false
		}
		sess, err := s.m.ValidateToken(ctx, tok, client)
		if err != nil {
			return s.answer("", err), false
		}
		return "OK " + sess.ExpiresAt().UTC().Format(time.RFC3339), false
	case "LOGOUT":
		if len(args) != 1 {
			return "ERR usage: LOGOUT <token>", false
		}
		return s.answer("", s.m.DestroyToken(ctx, args[0], client)), false
	case "QUIT":
		return "OK bye", true
	}
	return "ERR unknown command", false
}

// withSession validates the token in args, runs fn on its session, saves
// it, and answers fn's result.
func (s *server) withSession(ctx context.Context, client core.Client, args []string, fn func(*core.Session) (string, error)) string {
	if len(args) != 1 {
		return "ERR usage: <command> <token>"
	}
	sess, err := s.m.ValidateToken(ctx, args[0], client)
	if err != nil {
		return s.answer("", err)
	}
	result, err := fn(sess)
	if err != nil {
		return s.answer("", err)
	}
	if _, err := s.m.SaveToken(ctx, sess); err != nil {
		return s.answer("", err)
	}
	return s.answer(result, nil)
}

// answer is the reply line for a result or an error. Store failures are
// logged; their text is not the client's business.
func (s *server) answer(result string, err error) string {
	switch {
	case err == nil:
		return strings.TrimSpace("OK " + result)
	case errors.Is(err, core.ErrInvalidToken):
		return "ERR invalid token"
	case errors.Is(err, core.ErrLoginOptions):
		return "ERR invalid login"
	case errors.Is(err, core.ErrTooLarge):
		return "ERR session full"
	case errors.Is(err, core.ErrStore):
		s.log.Error("tokenapi: session store failed", "error", err)
		return "ERR session store unavailable"
	}
	s.log.Error("tokenapi: command failed", "error", err)
	return "ERR internal error"
}

// remoteIP is the connection's remote address without its port.
func remoteIP(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}
