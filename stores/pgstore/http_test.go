package pgstore_test

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
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// TestHTTPOverPostgres drives the net/http adapter over a PostgreSQL store
// whose server goes down and comes back: requests answer 503 while it is
// down (never an anonymous session, never a hang past the request's
// deadline), and the same manager, store and pool serve again once it is
// back, with the session as it was. A session row the store cannot read
// is reported as an invalid token, with ErrCorrupt, and replaced.
func TestHTTPOverPostgres(t *testing.T) {
	srv := pgtest.New(t)
	pool, err := pgstore.NewPool(context.Background(), srv.URL())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st := ownStore(t, pool, pgstore.Options{})
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
	require.Equal(t, "2", rec.Body.String(), "the session round-trips through PostgreSQL")

	require.NoError(t, srv.Stop())
	for _, c := range []*http.Cookie{cookie, nil} {
		var rec *httptest.ResponseRecorder
		within(t, returnBound, "a request with the database down", func() { rec = post(c, opDeadline) })
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
	assert.Equal(t, "3", rec.Body.String(), "the session outlived the outage")
	assert.Empty(t, rec.Result().Cookies(), "and kept its token")

	// Corrupt the session's row behind the store's back.
	sessions, _ := pgstore.Options{}.Tables()
	tag, err := pool.Exec(context.Background(), "UPDATE "+sessions+" SET state = 'garbage' WHERE state = 'live'")
	require.NoError(t, err)
	require.Equal(t, int64(1), tag.RowsAffected())
	mu.Lock()
	events = nil
	mu.Unlock()
	rec = post(cookie, opDeadline)
	assert.Equal(t, http.StatusOK, rec.Code, "corrupt session data is an invalid session, not an outage")
	assert.Equal(t, "1", rec.Body.String(), "nothing of the corrupt record is trusted: a fresh session")
	require.Len(t, rec.Result().Cookies(), 1)
	assert.NotEqual(t, cookie.Value, rec.Result().Cookies()[0].Value, "with a new token")
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, events)
	assert.Equal(t, core.EventInvalidToken, events[0].Kind)
	assert.ErrorIs(t, events[0].Err, pgstore.ErrCorrupt)
}
