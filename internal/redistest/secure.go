package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StandaloneArgs is Standalone with extra configuration: redis-server
// command-line options, given after the package's own defaults (which
// they override), such as
//
//	"--requirepass", "secret"
//	"--user", "alice", "on", ">secret", "~*", "&*", "+@all"
//	"--user", "default", "off"
//
// A server that wants a password before PING is ready once it answers
// NOAUTH.
func StandaloneArgs(t testing.TB, args ...string) *Server {
	t.Helper()
	return standalone(t, args)
}

// answeredNoAuth reports whether a readiness PING got NOAUTH: the server
// is up, and wants a password first.
func answeredNoAuth(err error) bool {
	return err != nil && strings.Contains(err.Error(), ": NOAUTH ")
}

// TLSServer is a redis-server of the test's own that serves plain Redis on
// Addr and TLS on TLSAddr, with a certificate for 127.0.0.1 and localhost
// signed by a certificate authority made for it alone.
type TLSServer struct {
	*Server
	// TLSAddr is the TLS port's address, 127.0.0.1:port.
	TLSAddr string
	// RootCAs holds the authority that signed the server's certificate
	// and ClientCert; a client trusts the server with it.
	RootCAs *x509.CertPool
	// ClientCert is a client certificate signed by the same authority,
	// for a server started with "--tls-auth-clients", "yes".
	ClientCert tls.Certificate
}

// StandaloneTLS starts a TLSServer and stops it when the test ends. It
// does not ask clients for a certificate (--tls-auth-clients no) unless
// args say so; args are more redis-server options, as for StandaloneArgs.
// It fails the test when redis-server was built without TLS.
func StandaloneTLS(t testing.TB, args ...string) *TLSServer {
	t.Helper()
	bin := binary(t, "redis-server")
	dir := t.TempDir()
	pki, err := writeTestPKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for attempt := 0; attempt < startRetries; attempt++ {
		tlsPort, err := freePort(false)
		if err != nil {
			t.Fatal(err)
		}
		extra := append([]string{
			"--tls-port", strconv.Itoa(tlsPort),
			"--tls-cert-file", pki.serverCert,
			"--tls-key-file", pki.serverKey,
			"--tls-ca-cert-file", pki.caCert,
			"--tls-auth-clients", "no",
		}, args...)
		s, err := startNew(bin, dir, extra, false)
		if errors.Is(err, errPortTaken) {
			last = err // perhaps the TLS port: try another
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Stop(); err != nil {
				t.Error(err)
			}
		})
		return &TLSServer{
			Server:     s,
			TLSAddr:    "127.0.0.1:" + strconv.Itoa(tlsPort),
			RootCAs:    pki.roots,
			ClientCert: pki.client,
		}
	}
	t.Fatal(last)
	return nil
}

// testPKI is what writeTestPKI made: file names for redis-server, and
// what a client needs.
type testPKI struct {
	caCert, serverCert, serverKey string
	roots                         *x509.CertPool
	client                        tls.Certificate
}

// writeTestPKI makes a certificate authority, a server certificate for
// 127.0.0.1, ::1 and localhost, and a client certificate, valid for a
// day, and writes the authority's and the server's as PEM files in dir.
func writeTestPKI(dir string) (*testPKI, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "redistest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		return der, key, err
	}
	serverDER, serverKey, err := leaf(2, "redistest server", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	clientDER, clientKey, err := leaf(3, "redistest client", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	serverKeyDER, err := x509.MarshalECPrivateKey(serverKey)
	if err != nil {
		return nil, err
	}
	p := &testPKI{
		caCert:     filepath.Join(dir, "ca.crt"),
		serverCert: filepath.Join(dir, "server.crt"),
		serverKey:  filepath.Join(dir, "server.key"),
		roots:      x509.NewCertPool(),
		client:     tls.Certificate{Certificate: [][]byte{clientDER}, PrivateKey: clientKey},
	}
	p.roots.AddCert(ca)
	for _, f := range []struct {
		path, kind string
		der        []byte
	}{
		{p.caCert, "CERTIFICATE", caDER},
		{p.serverCert, "CERTIFICATE", serverDER},
		{p.serverKey, "EC PRIVATE KEY", serverKeyDER},
	} {
		b := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		if err := os.WriteFile(f.path, b, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}
