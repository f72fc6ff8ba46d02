// Package demotest is the demo contract (docs/DESIGN.md) as a test suite that
// every example app runs unchanged, whatever its framework:
//
//	func start(t *testing.T, m *core.Manager, tls bool) demotest.Target {
//		return demotest.ServeHTTP(t, newHandler(m, demotest.Quiet()), tls)
//	}
//
//	func TestContract(t *testing.T) { demotest.Run(t, start) }
//	func TestRun(t *testing.T)      { demotest.RunCommand(t, run) }
//
// The suite talks HTTP to a real listener, so each framework's own request
// handling answers it, and holds every answer to the bytes: the same
// statuses, the same JSON bodies (with encoding/json's trailing newline),
// the same cookie attributes in all six examples.
package demotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// Target is a demo app serving for a test.
type Target struct {
	// URL is the app's base URL: scheme, host and port.
	URL string
	// Client reaches the app; over TLS it trusts the test certificate.
	// The suite gives each simulated browser a copy with its own cookie
	// jar and never changes it.
	Client *http.Client
}

// Start serves the example's app, with the session manager m, on a
// loopback listener until the test ends, over TLS when tls is set (Target
// says how to reach it). The suite closes m after the test's cleanups
// that Start registers have run. Subtests run in parallel, so Start must
// be safe to call concurrently.
type Start func(t *testing.T, m *core.Manager, tls bool) Target

// Run runs the whole demo contract against the example start serves.
func Run(t *testing.T, start Start) {
	tests := []struct {
		name string
		fn   func(*testing.T, Start)
	}{
		{"Healthz", testHealthz},
		{"AnonymousRequestsCreateNothing", testAnonymousRequestsCreateNothing},
		{"CounterAndValues", testCounterAndValues},
		{"LoginAndLogout", testLoginAndLogout},
		{"SessionsListAndRevoke", testSessionsListAndRevoke},
		{"SecureDefaults", testSecureDefaults},
		{"HeaderTransport", testHeaderTransport},
		{"StoreFailure", testStoreFailure},
		{"Routes", testRoutes},
		{"LoginForm", testLoginForm},
		{"BodyLimit", testBodyLimit},
		{"BodyIsNotDecoded", testBodyIsNotDecoded},
		{"LargeRequestHeaders", testLargeRequestHeaders},
		{"Head", testHead},
		{"RememberMe", testRememberMe},
		{"RememberedRotation", testRememberedRotation},
		{"LoginLabel", testLoginLabel},
		{"SessionsJSON", testSessionsJSON},
		{"BindUserAgent", testBindUserAgent},
		{"CrossOrigin", testCrossOrigin},
		{"DeadCookieCleared", testDeadCookieCleared},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, start)
		})
	}
}

// Quiet is a logger that discards everything.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Insecure is the demo's default options with -secure=false, as for
// plain HTTP.
func Insecure() demo.Options {
	o := demo.Defaults()
	o.Secure = false
	return o
}

// Launch serves the example start serves with a manager built from o, as
// the demo builds it from its flags, on st (nil: the manager's own
// in-memory store). It serves over TLS when o.Secure is set, as a browser
// only returns a Secure cookie over HTTPS.
func Launch(t *testing.T, start Start, o demo.Options, st core.Store) Target {
	t.Helper()
	m, err := core.New(o.Config(st, Quiet()))
	require.NoError(t, err)
	// Registered before start's cleanups, so it runs after them: the
	// server has stopped by the time the manager closes.
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return start(t, m, o.Secure)
}

// ServeHTTP serves h, an app built on net/http, as its run serves it (on
// a demo.HTTPServer, with its limits and timeouts), on a loopback listener
// until the test ends, over TLS with httptest's certificate when useTLS is
// set.
func ServeHTTP(t *testing.T, h http.Handler, useTLS bool) Target {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.Config = demo.HTTPServer(h, Quiet())
	if useTLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return Target{URL: ts.URL, Client: ts.Client()}
}

// TLSCert is a self-signed certificate for 127.0.0.1 and the pool that
// trusts it, for an app that serves TLS on a listener of its own.
func TLSCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sessionkit demo test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
