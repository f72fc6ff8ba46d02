package redisstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// The causes Check names. A *CheckError wraps one of them (errors.Is
// finds it) together with the error go-redis returned.
var (
	// ErrAuthRequired: the server wants a password (requirepass) or an ACL
	// user, and none was given. Redis answers NOAUTH, or, to a command of
	// more than ten arguments sent before authenticating, "ERR Protocol
	// error: unauthenticated multibulk length" (and closes the
	// connection), which is what a store's first write gets.
	ErrAuthRequired = errors.New("authentication required")
	// ErrWrongPassword: the server refused the credentials given
	// (WRONGPASS): a wrong password, an unknown or disabled ACL user.
	ErrWrongPassword = errors.New("wrong password or user")
	// ErrNoPermission: the ACL user may not run the command (NOPERM).
	ErrNoPermission = errors.New("permission denied")
	// ErrTLSRequired: the server speaks TLS on that port, and the client
	// did not (redis:// where rediss:// was needed). The server just
	// closes the connection, so Check probes the port to tell.
	ErrTLSRequired = errors.New("TLS required")
	// ErrNotTLS: the client asked for TLS (rediss://, TLSConfig), and the
	// server answers plain Redis on that port.
	ErrNotTLS = errors.New("server does not speak TLS")
	// ErrTLSCertificate: the server's certificate is not trusted, or not
	// for the name the client connected by.
	ErrTLSCertificate = errors.New("server certificate not accepted")
	// ErrTLSHandshake: the server broke off the TLS handshake, most often
	// because it wants a client certificate (tls-auth-clients yes).
	ErrTLSHandshake = errors.New("TLS handshake refused")
	// ErrRefused: nothing listens at the address.
	ErrRefused = errors.New("connection refused")
	// ErrTimeout: no answer in time.
	ErrTimeout = errors.New("timeout")
	// ErrNoSuchHost: the host name does not resolve.
	ErrNoSuchHost = errors.New("host not found")
	// ErrNotCluster: a Cluster client reached a server without cluster
	// support.
	ErrNotCluster = errors.New("not a Redis Cluster")
	// ErrClusterNode: a standalone client reached a Redis Cluster node,
	// which would answer most keys with MOVED.
	ErrClusterNode = errors.New("a Redis Cluster node")
	// ErrSentinel: a standalone client reached a sentinel, which keeps no
	// data: the client should have asked it for the master.
	ErrSentinel = errors.New("a sentinel, not a data server")
	// ErrNoMaster: no sentinel knows a master of the name given.
	ErrNoMaster = errors.New("no such master")
)

// hints say what to do about each cause.
var hints = map[error]string{
	ErrAuthRequired: "give the password: redis://:PASSWORD@host:port (or redis://USER:PASSWORD@host:port for an ACL user), " +
		"or Password (and Username) in the options",
	ErrWrongPassword: "check the password and the ACL user (it must exist and be on); " +
		"in a URL, a password with reserved characters (@ : / ? # %) must be percent-encoded",
	ErrNoPermission:   "grant the ACL user the commands and keys the store uses (for instance +@all ~PREFIX* where PREFIX is the store's prefix)",
	ErrTLSRequired:    "the port wants TLS: use rediss:// (or set TLSConfig)",
	ErrNotTLS:         "use redis:// for this port, or the server's tls-port",
	ErrTLSCertificate: "give the CA that signed it in TLSConfig.RootCAs, and connect by a name the certificate holds",
	ErrTLSHandshake:   "the server may want a client certificate (set TLSConfig.Certificates) or a TLS version or cipher the client does not offer",
	ErrRefused:        "is Redis running, and are host and port right?",
	ErrTimeout:        "a wrong host or port, a firewall, a TLS client on a plain port, or a server too busy",
	ErrNoSuchHost:     "check the host name",
	ErrNotCluster:     "give one address for a standalone server (no ?addr=), or use Sentinel's master_name",
	ErrClusterNode:    "connect as a Cluster client: several addresses (host1:port,host2:port, or ?addr=...), or IsClusterMode",
	ErrSentinel:       "name the master: ?master_name=NAME in the URL (or MasterName), the sentinels' addresses in the URL's host and &addr=",
	ErrNoMaster:       "check master_name (MasterName) against the sentinels' configuration",
}

// CheckError is what Check returns when the client cannot serve: the cause
// it found, where, and what go-redis said.
type CheckError struct {
	// Cause is one of the Err variables of this package (ErrAuthRequired,
	// ErrWrongPassword, ...), or nil when none fits.
	Cause error
	// Addr is the server (a Cluster node), the seed addresses of a
	// Cluster whose slots did not load, or "the sentinels" or "the
	// master" for a Sentinel client.
	Addr string
	// Err is the error go-redis returned.
	Err error
}

func (e *CheckError) Error() string {
	var b strings.Builder
	b.WriteString("redisstore: Redis")
	if e.Addr != "" {
		b.WriteString(" at " + e.Addr)
	}
	b.WriteString(": ")
	if e.Cause != nil {
		b.WriteString(e.Cause.Error() + ": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if h := hints[e.Cause]; h != "" {
		b.WriteString("; " + h)
	} else if e.Cause == nil && isClosed(e.Err) {
		b.WriteString("; the server closed the connection: a TLS port does that to a plain client (use rediss://)")
	}
	return b.String()
}

// Unwrap gives both the cause and go-redis's error to errors.Is and
// errors.As.
func (e *CheckError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Cause, e.Err} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// DefaultCheckTimeout bounds Check when its context has no deadline.
const DefaultCheckTimeout = 10 * time.Second

// probeTimeout bounds each probe Check makes to tell TLS from plain.
const probeTimeout = 2 * time.Second

// Check tells whether client can reach and use Redis, and when it cannot,
// why: run it once at start-up, so that a wrong password or a missing
// rediss:// stops the application with the real cause instead of failing
// every request. It sends PING, which makes go-redis open a connection
// and authenticate on it (HELLO with the credentials, or AUTH), so it sees
// what the store's first command would. The error is a *CheckError
// naming the cause (ErrAuthRequired, ErrWrongPassword, ErrNoPermission,
// ErrTLSRequired, ErrNotTLS, ErrTLSCertificate, ErrTLSHandshake,
// ErrRefused, ErrTimeout, ErrNoSuchHost, ErrNotCluster, ErrClusterNode,
// ErrSentinel, ErrNoMaster); errors.Is finds it, and errors.As go-redis's error.
//
// It checks what the client will use: for a Cluster client, every node
// (masters and replicas) after loading the slots; for a Sentinel client,
// the master the sentinels name (the sentinels first); for a standalone
// client, the server, and that it is neither a Cluster node nor a
// sentinel. When a connection
// is closed at once or never answers, it probes the address, with TLS and
// without, to tell a TLS mismatch from a dead server; the probes may add
// up to two seconds. Without a deadline on ctx it gives up after
// DefaultCheckTimeout. No message of Check holds a password.
func Check(ctx context.Context, client redis.UniversalClient) error {
	if client == nil {
		return errors.New("redisstore: nil client")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCheckTimeout)
		defer cancel()
	}
	switch c := client.(type) {
	case *redis.ClusterClient:
		return checkCluster(ctx, c)
	case *redis.Client:
		opt := c.Options()
		if opt.Addr == "FailoverClient" { // go-redis's mark of a Sentinel client
			return checkFailover(ctx, c)
		}
		return checkSimple(ctx, c)
	case *redis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
			return checkSimple(ctx, n)
		})
	}
	if err := client.Ping(ctx).Err(); err != nil {
		return diagnose(ctx, err, "", nil)
	}
	return nil
}

func checkSimple(ctx context.Context, c *redis.Client) error {
	opt := c.Options()
	if err := c.Ping(ctx).Err(); err != nil {
		return diagnose(ctx, err, opt.Addr, &probe{addr: opt.Addr, tls: opt.TLSConfig != nil})
	}
	// A Cluster node answers PING, and then MOVED for most keys; a
	// sentinel answers PING, and no command of the store. An ACL user may
	// not run INFO: then this part is skipped.
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return nil
	}
	switch {
	case strings.Contains(info, "redis_mode:cluster"):
		return &CheckError{Cause: ErrClusterNode, Addr: opt.Addr,
			Err: errors.New("INFO says redis_mode:cluster, and this is a standalone client")}
	case strings.Contains(info, "redis_mode:sentinel"):
		return &CheckError{Cause: ErrSentinel, Addr: opt.Addr,
			Err: errors.New("INFO says redis_mode:sentinel, and this is a standalone client")}
	}
	return nil
}

func checkCluster(ctx context.Context, c *redis.ClusterClient) error {
	opt := c.Options()
	err := c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
		no := n.Options()
		if err := n.Ping(ctx).Err(); err != nil {
			return diagnose(ctx, err, no.Addr, &probe{addr: no.Addr, tls: no.TLSConfig != nil})
		}
		return nil
	})
	if err == nil {
		return nil
	}
	var ce *CheckError
	if errors.As(err, &ce) {
		return ce
	}
	// Loading the slots failed: no node said who it is.
	var p *probe
	if len(opt.Addrs) > 0 {
		p = &probe{addr: opt.Addrs[0], tls: opt.TLSConfig != nil}
	}
	return diagnose(ctx, err, strings.Join(opt.Addrs, ","), p)
}

func checkFailover(ctx context.Context, c *redis.Client) error {
	err := c.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	where := "the master"
	if strings.Contains(err.Error(), "sentinels") {
		// go-redis's "all sentinels specified in configuration are
		// unreachable", whatever each one said.
		where = "the sentinels"
		if errors.Is(err, redis.Nil) {
			return &CheckError{Cause: ErrNoMaster, Addr: where, Err: err}
		}
	}
	return diagnose(ctx, err, where, nil)
}

// probe is where diagnose may look when a connection was closed or never
// answered, and whether the client spoke TLS there.
type probe struct {
	addr string
	tls  bool
}

// diagnose names the cause of err, which a client got from addr.
func diagnose(ctx context.Context, err error, addr string, p *probe) *CheckError {
	e := &CheckError{Addr: addr, Err: err}
	e.Cause = cause(err)
	if ctx.Err() == context.Canceled {
		return e // the caller gave up; no probe
	}
	if p == nil || p.addr == "" {
		return e
	}
	switch {
	case e.Cause == nil && !p.tls && !isRedisError(err):
		// A TLS port closes a plain connection without a word.
		if speaksTLS(ctx, p.addr) {
			e.Cause = ErrTLSRequired
		}
	case (e.Cause == nil || e.Cause == ErrTimeout) && p.tls && !isRedisError(err):
		// A plain port may wait for the end of a line that a TLS hello
		// never sends.
		if answersPlain(ctx, p.addr) {
			e.Cause = ErrNotTLS
		}
	}
	return e
}

// cause names what err says, without looking further.
func cause(err error) error {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		switch {
		case strings.HasPrefix(msg, "NOAUTH"), strings.Contains(msg, "unauthenticated"),
			strings.Contains(msg, "Authentication required"):
			return ErrAuthRequired
		case strings.HasPrefix(msg, "WRONGPASS"), strings.Contains(msg, "invalid password"),
			strings.Contains(msg, "invalid username-password"), strings.Contains(msg, "no password is set"),
			strings.Contains(msg, "without any password configured"):
			return ErrWrongPassword
		case strings.HasPrefix(msg, "NOPERM"):
			return ErrNoPermission
		case strings.Contains(msg, "cluster support disabled"):
			return ErrNotCluster
		}
		return nil
	}
	var (
		verr   *tls.CertificateVerificationError
		uaerr  x509.UnknownAuthorityError
		herr   x509.HostnameError
		cierr  x509.CertificateInvalidError
		rherr  tls.RecordHeaderError
		operr  *net.OpError
		dnserr *net.DNSError
		nerr   net.Error
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &uaerr), errors.As(err, &herr), errors.As(err, &cierr):
		return ErrTLSCertificate
	case errors.As(err, &rherr):
		return ErrNotTLS
	case errors.As(err, &operr) && operr.Op == "remote error":
		// An alert from the peer: crypto/tls reports it so.
		return ErrTLSHandshake
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.As(err, &dnserr) && dnserr.IsNotFound:
		return ErrNoSuchHost
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return ErrTimeout
	}
	return nil
}

func isRedisError(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// isClosed reports a connection the server closed.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// probeContext bounds a probe, even when the check's own time is spent.
func probeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
}

// speaksTLS reports whether a TLS server answers at addr: the handshake
// completes, or the server answers it with an alert. The certificate is
// not verified: the question is only whether the port speaks TLS.
func speaksTLS(ctx context.Context, addr string) bool {
	ctx, cancel := probeContext(ctx)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a probe: nothing is sent
	err = tc.HandshakeContext(ctx)
	var operr *net.OpError
	return err == nil || errors.As(err, &operr) && operr.Op == "remote error"
}

// answersPlain reports whether a plain Redis answers PING at addr, with
// a status or an error (NOAUTH still is Redis).
func answersPlain(ctx context.Context, addr string) bool {
	ctx, cancel := probeContext(ctx)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return false
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return false
	}
	return b[0] == '+' || b[0] == '-'
}
