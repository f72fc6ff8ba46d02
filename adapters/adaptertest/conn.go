package adaptertest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// ListenerServer sends each request to the server listening on addr over
// keep-alive connections it keeps for the test, writing requests as they
// are, unchecked. It is the Server for adapters not built on net/http
// types (Fiber on fasthttp): a real connection, so the framework reuses its
// buffers as in production. Two shortcuts would hide things: an in-memory
// test call (Fiber's app.Test) drops the answer a server writes when it
// refuses a request (a 10 KB cookie is a 431), and net/http's client
// refuses to send the suite's hostile header values (a NUL) at all.
func ListenerServer(t *testing.T, addr string) Server {
	idle := make(chan *Conn, 16)
	t.Cleanup(func() {
		for len(idle) > 0 {
			_ = (<-idle).Close()
		}
	})
	return func(r *http.Request) (*http.Response, error) {
		var c *Conn
		select {
		case c = <-idle:
		default:
			var err error
			if c, err = Dial(addr); err != nil {
				return nil, err
			}
		}
		res, err := c.RoundTrip(r)
		if err != nil || res.Close {
			_ = c.Close()
			return res, err
		}
		select {
		case idle <- c:
		default:
			_ = c.Close()
		}
		return res, nil
	}
}

// Conn is one keep-alive client connection that writes requests as they
// are, unchecked.
type Conn struct {
	net.Conn
	br *bufio.Reader
}

// Dial opens a Conn to addr.
func Dial(addr string) (*Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c, br: bufio.NewReader(c)}, nil
}

// RoundTrip sends r and returns the response with its body read. It reads
// while it writes, as net/http's transport does: a server that refuses a
// request (fasthttp, for headers beyond its read buffer) answers and
// closes before it has read it all, and the rest of the write fails. A
// response after such a failed write has Close set: the connection is not
// for reuse.
func (c *Conn) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, err
	}
	written := make(chan error, 1)
	go func() { written <- r.Write(c) }()
	res, err := http.ReadResponse(c.br, r)
	if err != nil {
		if werr := <-written; werr != nil {
			return nil, werr
		}
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if werr := <-written; werr != nil {
		res.Close = true
	}
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}
