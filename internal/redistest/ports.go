package redistest

import (
	"fmt"
	"net"
	"strconv"
)

// clusterBusOffset is where Redis Cluster puts a node's bus port by default:
// its client port plus 10000. Using the default (instead of Redis 7's
// cluster-port setting) keeps the helpers working with Redis 6.
const clusterBusOffset = 10000

// freePort returns a loopback port that nobody listens on right now (and,
// with bus, whose cluster bus port is free too). Another process may still
// take it before redis-server binds it; the caller retries on that.
func freePort(bus bool) (int, error) {
	for attempt := 0; attempt < 50; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !bus {
			l.Close()
			return port, nil
		}
		busPort := port + clusterBusOffset
		if busPort > 65535 {
			l.Close()
			continue
		}
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(busPort))
		l.Close()
		if err != nil {
			continue
		}
		b.Close()
		return port, nil
	}
	return 0, fmt.Errorf("redistest: no free loopback port found")
}
