package adapterkit

import (
	"context"
	"errors"
	"net/http"

	"github.com/sessionkit/sessionkit/core"
)

// Commit runs a session's commit at the moment the response headers are
// about to go out, once, and its late pass when the handler returns. Every
// adapter that sees the header moment (a wrapped writer) drives one, so
// the rules live in one place.
type Commit struct {
	ctx     context.Context
	m       *core.Manager
	s       *core.Session
	header  http.Header
	onError ErrorResponder
	state   commitState
}

// ErrorResponder answers a commit that failed before the headers went out.
// The adapter's own per-request value (its writer) implements it, which
// costs no allocation, unlike a closure.
type ErrorResponder interface {
	SessionError(error)
}

type commitState uint8

const (
	pending commitState = iota
	committed
	failed
)

// Init prepares the commit of s, embedded in an adapter's own per-request
// value. header is the response's header map, where the result goes;
// onError answers when the commit fails before the headers went out.
func (c *Commit) Init(ctx context.Context, m *core.Manager, s *core.Session, header http.Header, onError ErrorResponder) {
	*c = Commit{ctx: ctx, m: m, s: s, header: header, onError: onError}
}

// BeforeHeaders commits now if that has not happened, and reports whether
// the handler's response may go out. False means the commit failed and
// onError has answered instead: the adapter must drop what the handler
// writes.
func (c *Commit) BeforeHeaders() bool {
	if c.state == pending {
		res, err := c.m.Commit(c.ctx, c.s)
		if err != nil {
			c.state = failed
			c.onError.SessionError(err)
			return false
		}
		c.state = committed
		res.Apply(c.header)
	}
	return c.state == committed
}

// BeforeHijack runs when the handler takes the connection over: the
// headers will never be written by the framework, so the session is saved
// as for a late commit (core.Manager.CommitHeadersGone) and no token is
// issued that could not be delivered. It reports whether the hijack may
// go ahead. On a store failure the hijack is refused, so the connection is
// still the server's and onError answers on it, as for any failed commit.
func (c *Commit) BeforeHijack() bool {
	if c.state == pending {
		c.state = committed
		if err := c.m.CommitHeadersGone(c.ctx, c.s); err != nil && !errors.Is(err, core.ErrHeadersWritten) {
			c.state = failed
			c.onError.SessionError(err)
		}
	}
	return c.state == committed
}

// Started reports whether the header moment has passed.
func (c *Commit) Started() bool { return c.state != pending }

// Failed reports whether the commit failed and the error response replaced
// the handler's.
func (c *Commit) Failed() bool { return c.state == failed }

// AfterHandler runs when the handler has returned. If nothing was written
// yet, this is the header moment (the framework writes the headers after
// us). Otherwise it saves what changed after the headers went out, or has
// the manager report why it cannot.
func (c *Commit) AfterHandler() {
	if c.state == pending {
		c.BeforeHeaders()
		return
	}
	if c.state == committed {
		_, _ = c.m.Commit(c.ctx, c.s)
	}
}
