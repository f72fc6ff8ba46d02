package redistest

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStandaloneArgs(t *testing.T) {
	s := StandaloneArgs(t, "--requirepass", "pw")
	_, err := command(s.Addr(), time.Second, "PING")
	assert.ErrorContains(t, err, "NOAUTH", "the options reached the server")
	pid := s.Pid()
	require.NoError(t, s.Stop())
	assert.False(t, alive(pid))
}

func TestStandaloneTLS(t *testing.T) {
	s := StandaloneTLS(t)
	require.NoError(t, ping(s.Addr()), "the plain port")
	assert.NotEqual(t, s.Addr(), s.TLSAddr)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", s.TLSAddr, &tls.Config{RootCAs: s.RootCAs})
	require.NoError(t, err, "the certificate is valid for 127.0.0.1")
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(2*time.Second)))
	_, err = conn.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	require.NoError(t, err)
	buf := make([]byte, 7)
	_, err = conn.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "+PONG\r\n", string(buf))
}
