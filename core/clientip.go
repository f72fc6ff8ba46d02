package core

import (
	"net"
	"net/netip"
	"strings"
)

// clientIP is the address recorded at login: the connection's remote
// address, or, when that is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one (the right-most untrusted hop, the only
// one a client cannot forge).
func (m *Manager) clientIP(remoteAddr, forwardedFor string) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if len(m.cfg.TrustedProxies) == 0 || forwardedFor == "" || !m.trusted(host) {
		return host
	}
	hops := strings.Split(forwardedFor, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			return host // a garbled chain is not evidence of anything
		}
		if !m.trusted(hop) {
			return hop
		}
	}
	return host
}

func (m *Manager) trusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range m.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
