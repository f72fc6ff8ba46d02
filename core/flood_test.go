package core_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

var memflood = flag.Bool("memflood", false, "run TestMemFlood: 10 million new sessions against the default store, reporting RSS (about a minute)")

// floodManager is the default configuration, silenced: a flood's events
// would otherwise be as many log lines once evictions are reported.
func floodManager(t *testing.T) *core.Manager {
	m, err := core.New(core.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	require.NotNil(t, m.OwnStore(), "core.New(core.Config{}) built no default store")
	return m
}

// request runs one request against m as an adapter would: Load, the
// handler, Commit. It returns the token the client holds afterwards.
func request(m *core.Manager, token string, handler func(*core.Session)) (string, error) {
	ctx := context.Background()
	req := &core.Request{UserAgent: "flood-test", RemoteAddr: "192.0.2.1:4444"}
	if token != "" {
		req.Cookie = []string{m.Config().Cookie.Name + "=" + token}
	}
	s, err := m.Load(ctx, req)
	if err != nil {
		return "", err
	}
	handler(s)
	res, err := m.Commit(ctx, s)
	if err != nil || res.Cookie == nil {
		return token, err
	}
	return res.Cookie.Value, nil
}

// flood makes n new anonymous sessions on every core, each one request
// that writes a value.
func flood(t *testing.T, m *core.Manager, n int) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				tok, err := request(m, "", func(s *core.Session) { _ = s.Put("n", i) })
				if err == nil && tok == "" {
					err = fmt.Errorf("request %d issued no token", i)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for w, err := range errs {
		require.NoError(t, err, "flood worker %d", w)
	}
}

// A flood of cookieless requests that each write a value (a new session
// apiece) against the default configuration keeps the default store within
// its bounds, and logs no one out: every session logged in before the flood
// still loads after it, while the anonymous ones evicted to make room are
// simply unknown tokens afterwards. The flood is the one the security
// review measured, five times over.
func TestFloodKeepsDefaultStoreBounded(t *testing.T) {
	const loggedIn, flood1M = 1_000, 1_000_000
	m := floodManager(t)
	st := m.OwnStore()

	tokens := make([]string, loggedIn)
	for i := range tokens {
		tok, err := request(m, "", func(s *core.Session) {
			s.Login("user" + strconv.Itoa(i))
			require.NoError(t, s.Put("cart", i))
		})
		require.NoError(t, err)
		require.NotEmpty(t, tok, "login issued no token")
		tokens[i] = tok
	}

	// An anonymous session from before the flood, never read since: the
	// first to go.
	early, err := request(m, "", func(s *core.Session) { _ = s.Put("n", -1) })
	require.NoError(t, err)

	flood(t, m, flood1M)

	t.Logf("after %d creations: %d sessions, %d accounted bytes", loggedIn+flood1M, st.Len(), st.Bytes())
	assert.LessOrEqual(t, st.Len(), memstore.DefaultMaxSessions, "the default store holds more sessions than its bound")
	assert.LessOrEqual(t, st.Bytes(), int64(memstore.DefaultMaxBytes), "the default store holds more bytes than its bound")

	// Its token is now an unknown one: a new session, not an error.
	_, err = request(m, early, func(s *core.Session) {
		assert.True(t, s.IsNew(), "an anonymous session from before the flood survived it")
	})
	require.NoError(t, err)

	for i, tok := range tokens {
		_, err := request(m, tok, func(s *core.Session) {
			if assert.Equal(t, "user"+strconv.Itoa(i), s.UserID(), "a session logged in before the flood was lost") {
				n, ok := core.Get[int](s, "cart")
				assert.True(t, ok, "the session's value was lost")
				assert.Equal(t, i, n)
			}
		})
		require.NoError(t, err)
	}
}

// TestMemFlood (with -memflood) measures what a flood costs the process:
// 10 million new sessions through the request path against the default
// store, then RSS from /proc/self/status. The figures in memstore's
// package doc come from it.
func TestMemFlood(t *testing.T) {
	if !*memflood {
		t.Skip("measurement: run with -memflood")
	}
	const total, step = 10_000_000, 1_000_000
	m := floodManager(t)
	st := m.OwnStore()
	t.Logf("before: VmRSS %s", procStatus(t, "VmRSS"))
	start := time.Now()
	for done := 0; done < total; done += step {
		flood(t, m, step)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("%5.1fM created in %5.1fs: %d sessions, %d accounted bytes, HeapInuse %d MB, VmRSS %s, VmHWM %s",
			float64(done+step)/1e6, time.Since(start).Seconds(), st.Len(), st.Bytes(), ms.HeapInuse>>20,
			procStatus(t, "VmRSS"), procStatus(t, "VmHWM"))
		require.LessOrEqual(t, st.Len(), memstore.DefaultMaxSessions)
		require.LessOrEqual(t, st.Bytes(), int64(memstore.DefaultMaxBytes))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("after a GC: HeapAlloc %d MB for %d sessions (%d B/session), VmRSS %s",
		ms.HeapAlloc>>20, st.Len(), ms.HeapAlloc/uint64(st.Len()), procStatus(t, "VmRSS"))
}

// procStatus is a field of /proc/self/status, such as VmRSS.
func procStatus(t *testing.T, field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
