package core

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientIP(t *testing.T) {
	plain := &Manager{}
	assert.Equal(t, "203.0.113.9", plain.clientIP("203.0.113.9:5555", "1.2.3.4"),
		"without trusted proxies X-Forwarded-For is ignored")
	assert.Equal(t, "::1", plain.clientIP("[::1]:80", ""))
	assert.Equal(t, "weird", plain.clientIP("weird", ""))

	proxied := &Manager{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	assert.Equal(t, "198.51.100.7", proxied.clientIP("10.1.1.1:80", "6.6.6.6, 198.51.100.7, 10.2.2.2"),
		"right-most untrusted hop; what the client prepended is not believed")
	assert.Equal(t, "203.0.113.9", proxied.clientIP("203.0.113.9:80", "1.2.3.4"),
		"an untrusted peer's header is ignored")
	assert.Equal(t, "10.1.1.1", proxied.clientIP("10.1.1.1:80", "not-an-ip"))
}
