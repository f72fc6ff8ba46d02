package pgstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// TestNoRawTokenInTheDatabase drives real sessions through the manager
// (create, login, values, rotation with grace, revoke) on a server of its
// own, then dumps every table of the database as text (bytea both as hex
// and escaped) and with pg_dump: no token appears anywhere, in any of its
// encodings, only hashes.
func TestNoRawTokenInTheDatabase(t *testing.T) {
	srv := pgtest.New(t)
	pool := newPool(t, srv)
	st := ownStore(t, pool, pgstore.Options{})
	now := time.Now()
	m, err := core.New(core.Config{
		Store: st, RotateAfter: time.Minute,
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ctx := context.Background()

	var tokens []string
	// A marker stored as a value: the dump must find it, or it proves nothing.
	const control = "control-Zq8uX3vLw0Jp"
	request := func(token string, fn func(*core.Session)) string {
		req := &core.Request{UserAgent: "agent", RemoteAddr: "127.0.0.1:1"}
		if token != "" {
			req.Cookie = []string{"__Host-session=" + token}
		}
		s, err := m.Load(ctx, req)
		require.NoError(t, err)
		if fn != nil {
			fn(s)
		}
		res, err := m.Commit(ctx, s)
		require.NoError(t, err)
		if res.Cookie != nil && res.Cookie.Value != "" {
			tokens = append(tokens, res.Cookie.Value)
			return res.Cookie.Value
		}
		return token
	}
	var last string
	for i := 0; i < 3; i++ {
		tok := request("", func(s *core.Session) { _ = s.Put("cart", "book") })
		tok = request(tok, func(s *core.Session) { s.Login("ann") })
		tok = request(tok, func(s *core.Session) { _ = s.Put("note", control) })
		now = now.Add(2 * time.Minute)
		last = request(tok, nil) // rotates; the old ID becomes a forwarding entry
	}
	require.Len(t, tokens, 9, "create, login and rotation each issued a token, three times")

	live := dump(t, srv, pool)
	require.Contains(t, live, control, "the dump sees stored values")
	require.Contains(t, live, hashHex(last), "the dump sees the session IDs")
	_, err = m.RevokeAll(ctx, "ann", "")
	require.NoError(t, err)
	after := dump(t, srv, pool) // what revocation leaves
	for _, tok := range tokens {
		for _, enc := range encodings(t, tok) {
			assert.NotContains(t, live, enc, "a token (%s) is in the database", tok)
			assert.NotContains(t, after, enc, "a token (%s) is in the database after revocation", tok)
		}
	}
}

func hashHex(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// encodings are the forms a token could take in a dump: as it is, its
// base64, and the random bytes it encodes in hex (as bytea prints) and in
// standard base64.
func encodings(t *testing.T, token string) []string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	return []string{
		token,
		base64.StdEncoding.EncodeToString([]byte(token)),
		base64.RawStdEncoding.EncodeToString([]byte(token)),
		hex.EncodeToString(raw),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
	}
}

// dump renders every row of every table outside the system catalogs as
// text, bytea as hex and again escaped (where printable bytes stay as they
// are), followed by pg_dump's output when pg_dump is installed.
func dump(t *testing.T, srv *pgtest.Server, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Len(t, tables, 2, "the store's two tables")
	for _, output := range []string{"hex", "escape"} {
		_, err := tx.Exec(ctx, "SET LOCAL bytea_output = "+output)
		require.NoError(t, err)
		for _, table := range tables {
			rows, err := tx.Query(ctx, "SELECT t::text FROM "+table+" t")
			require.NoError(t, err)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(t, err)
			b.WriteString(table + "\n" + strings.Join(lines, "\n") + "\n")
		}
	}
	pgDump := srv.Bin("pg_dump")
	if _, err := os.Stat(pgDump); err != nil {
		t.Logf("no pg_dump at %s: the dump is the SELECTs only", pgDump)
		return b.String()
	}
	out, err := exec.Command(pgDump, "-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port()), "-U", pgtest.User,
		"-d", pgtest.Database, "--no-password").Output()
	require.NoError(t, err, "pg_dump")
	require.Contains(t, string(out), "COPY public.sessionkit_sessions", "pg_dump dumped the sessions")
	b.Write(out)
	return b.String()
}
