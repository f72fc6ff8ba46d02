package core

import (
	"strings"
	"testing"
)

// FuzzTokenFrom feeds arbitrary Cookie and Authorization headers to token
// extraction. Whatever the input: no panic; a token is returned only when
// it has the exact issued shape and was literally in the request; and a
// request is never given a token while also being told it was refused.
func FuzzTokenFrom(f *testing.F) {
	good := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for _, seed := range [][2]string{
		{"__Host-session=" + good, ""},
		{"", "Bearer " + good},
		{"__Host-session=" + good, "bearer " + good},
		{"__Host-session=" + good + "; __Host-session=" + good, ""},
		{"__Host-session=\"" + good + "\"", ""},
		{"a=b; __Host-session=../../etc/passwd", "Bearer"},
		{"__Host-session=" + good[:42] + "B", "Basic " + good},
		{"__Host-session=\x00", "Bearer \x00"},
		{";;;=;__Host-session", "Bearer  \t " + good},
		// Unicode spaces and look-alikes before or after the name make a
		// different cookie, which a browser stores without the prefix's
		// protection: never the session cookie.
		{"\u2000__Host-session=" + good, ""},
		{"\u00a0__Host-session=" + good, ""},
		{"__Host-session\u3000=" + good, ""},
		{"\u0085__Host-session=" + good, ""},
		{"\u1680__Host-session=" + good, ""},
		{"\ufeff__Host-session=" + good, ""},
		{"__Host\u2010session=" + good, ""},
		{"__host-session=" + good, ""},
		{" \t__Host-session \t= " + good + " \t", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	m := &Manager{cfg: Config{Transport: TransportBoth, Cookie: CookieConfig{Name: "__Host-session"}}}
	f.Fuzz(func(t *testing.T, cookie, auth string) {
		r := &Request{Cookie: []string{cookie}, Authorization: []string{auth}}
		token, presented, _, err := m.tokenFrom(r)
		if err != nil {
			if token != "" {
				t.Fatalf("refused (%v) but returned a token", err)
			}
			if !presented {
				t.Fatalf("refused (%v) a request that presented nothing", err)
			}
			return
		}
		if token == "" {
			if presented {
				t.Fatal("presented, accepted, but empty")
			}
			return
		}
		if !validToken(token) {
			t.Fatalf("accepted a token of the wrong shape: %q", token)
		}
		if !strings.Contains(cookie, token) && !strings.Contains(auth, token) {
			t.Fatalf("token %q is not in the request", token)
		}
		if !strings.Contains(auth, token) && !namedExactly(cookie, "__Host-session") {
			t.Fatalf("token %q taken from a cookie not named exactly __Host-session: %q", token, cookie)
		}
	})
}

// namedExactly reports whether some pair of a Cookie header is named name
// once ASCII space and tab, and nothing else, are trimmed: the only
// whitespace a browser puts around a name it sends.
func namedExactly(header, name string) bool {
	for _, part := range strings.Split(header, ";") {
		k, _, ok := strings.Cut(part, "=")
		if ok && strings.Trim(k, " \t") == name {
			return true
		}
	}
	return false
}
