package pgtest

import (
	"fmt"
	"net"
)

// freePort returns a loopback port that nobody listens on right now.
// Another process may still take it before postgres binds it; the caller
// retries on that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: no free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
