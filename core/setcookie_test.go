package core_test

import (
	"io"
	"log"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sessionkit/sessionkit/core"
)

// TestAppendSetCookieIsNetHTTPs: AppendSetCookie renders every cookie
// exactly as net/http's Cookie.String does, those it renders itself and
// those it hands to net/http (fields net/http sanitizes, quotes or drops).
func TestAppendSetCookieIsNetHTTPs(t *testing.T) {
	defer log.SetOutput(log.Writer())
	log.SetOutput(io.Discard) // net/http logs the fields it drops
	names := []string{"__Host-session", "session", "a", "bad name", "x;y", "", "é"}
	values := []string{"", "JrQ6ld0wDgHRvIMWb4vIPN2yTsOzh3DJzo1sG8-IlAg", "a b", "a,b", `a"b`, "a;b", "a\\b", "a\x01b", "é", "\x7f"}
	paths := []string{"", "/", "/app", "/a b", "/a;b", "/a\x00b", "/é"}
	domains := []string{"", "example.com", ".example.com", "EXAMPLE.com", "a-b.example", "-a.com", "a-.com", "a..com", ".", "1.2.3.4", "::1", "a_b.com", "123", "x.123"}
	times := []time.Time{{}, time.Unix(0, 0), time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)), time.Date(1600, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)}
	ages := []int{-1, 0, 1, 3600}
	sites := []http.SameSite{0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode, 9}
	n := 0
	for i, name := range names {
		for j, value := range values {
			for k, path := range paths {
				for l, domain := range domains {
					// Every name, value, path and domain, each with a
					// rotating choice of the other attributes.
					x := i + j + k + l + n
					c := &http.Cookie{
						Name: name, Value: value, Path: path, Domain: domain,
						Expires:     times[x%len(times)],
						MaxAge:      ages[x/2%len(ages)],
						HttpOnly:    x%2 == 0,
						Secure:      x/3%2 == 0,
						SameSite:    sites[x%len(sites)],
						Partitioned: x/5%2 == 0,
						Quoted:      x%7 == 0,
					}
					n++
					res := core.Result{Cookie: c}
					want := c.String()
					prefix := []byte("prefix:")
					got := string(res.AppendSetCookie(prefix))
					if got != "prefix:"+want {
						t.Fatalf("%#v:\n got %q\nwant %q", c, got, "prefix:"+want)
					}
				}
			}
		}
	}
	var none core.Result
	assert.Equal(t, "x", string(none.AppendSetCookie([]byte("x"))))
}
