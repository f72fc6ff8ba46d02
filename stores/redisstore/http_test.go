package redisstore_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// TestHTTPOverRedis drives the net/http adapter over a Redis store whose
// server goes down and comes back: requests answer 503 while it is down
// (never an anonymous session, never a hang past the request's deadline),
// and the same manager, store and client serve again once it is back. Data
// under a session key that the store cannot read is reported as a store
// error, with an event.
func TestHTTPOverRedis(t *testing.T) {
	srv, client, st := ownServer(t)
	var mu sync.Mutex
	var events []core.Event
	m, err := core.New(core.Config{
		Store:  st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(_ context.Context, e core.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })

	mux := http.NewServeMux()
	mux.HandleFunc("POST /counter", func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		n, _ := core.Get[int](s, "count")
		_ = s.Put("count", n+1)
		io.WriteString(w, strconv.Itoa(n+1))
	})
	handler := sessionhttp.New(m)(mux)
	post := func(cookie *http.Cookie, deadline time.Duration) *httptest.ResponseRecorder {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, "POST", "/counter", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec
	}

	rec := post(nil, 5*time.Second)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "1", rec.Body.String())
	cookie := rec.Result().Cookies()[0]
	rec = post(cookie, 5*time.Second)
	require.Equal(t, "2", rec.Body.String(), "the session round-trips through Redis")

	require.NoError(t, srv.Stop())
	for _, c := range []*http.Cookie{cookie, nil} {
		var rec *httptest.ResponseRecorder
		within(t, returnBound, "a request with Redis down", func() { rec = post(c, opDeadline) })
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "cookie %v", c != nil)
		assert.Empty(t, rec.Result().Cookies(), "a failed request set a cookie")
	}

	require.NoError(t, srv.Start())
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec = post(cookie, opDeadline)
		if rec.Code == http.StatusOK {
			break
		}
		require.True(t, time.Now().Before(deadline), "never served again after the restart: %d", rec.Code)
		time.Sleep(50 * time.Millisecond)
	}
	// The restarted server kept no data: the old token is unknown, and the
	// request starts over in a new session.
	assert.Equal(t, "1", rec.Body.String())

	// Corrupt the new session's metadata behind the store's back.
	fresh := rec.Result().Cookies()[0]
	var id string
	iter := client.Scan(context.Background(), 0, redisstore.DefaultPrefix+"*", 100).Iterator()
	for iter.Next(context.Background()) {
		if k := iter.Val(); len(k) == len(redisstore.DefaultPrefix)+64 {
			id = k
		}
	}
	require.NotEmpty(t, id)
	require.NoError(t, client.HSet(context.Background(), id, "m:ls", "garbage").Err())
	mu.Lock()
	events = nil
	mu.Unlock()
	// A pooled connection may still be redialling after the restart (503);
	// within a bounded window the answer must be the corrupt-data one.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rec = post(fresh, opDeadline)
		if rec.Code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		mu.Lock()
		events = nil
		mu.Unlock()
	}
	assert.Equal(t, http.StatusOK, rec.Code, "corrupt session data is an invalid session, not an outage")
	assert.Equal(t, "1", rec.Body.String(), "nothing of the corrupt record is trusted: a fresh session")
	require.Len(t, rec.Result().Cookies(), 1)
	assert.NotEqual(t, fresh.Value, rec.Result().Cookies()[0].Value, "with a new token")
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, events)
	assert.Equal(t, core.EventInvalidToken, events[0].Kind)
	assert.ErrorIs(t, events[0].Err, redisstore.ErrCorrupt)
}
