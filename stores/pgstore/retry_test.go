package pgstore

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
)

// A transaction the server rolled back for a deadlock or a serialization
// failure is run again, a bounded number of times; any other error, and
// success, end it at once.
func TestRetry(t *testing.T) {
	for _, c := range []struct {
		name  string
		err   error
		calls int
	}{
		{"Deadlock", &pgconn.PgError{Code: codeDeadlock}, attempts},
		{"Serialization", &pgconn.PgError{Code: codeSerialization}, attempts},
		{"UniqueViolation", &pgconn.PgError{Code: codeUniqueViolation}, 1},
		{"Network", errors.New("connection reset"), 1},
		{"Success", nil, 1},
	} {
		calls := 0
		err := retry(func() error { calls++; return c.err })
		assert.Equal(t, c.calls, calls, c.name)
		assert.Equal(t, c.err, err, c.name)
	}
	calls := 0
	err := retry(func() error {
		calls++
		if calls == 1 {
			return &pgconn.PgError{Code: codeDeadlock}
		}
		return nil
	})
	assert.NoError(t, err, "a retry that succeeds")
	assert.Equal(t, 2, calls)
}

// Text columns hold what display needs; bytes that are not UTF-8, and NUL,
// become U+FFFD instead of failing the login.
func TestText(t *testing.T) {
	assert.Equal(t, "Mozilla/5.0 (X11)", text("Mozilla/5.0 (X11)"))
	assert.Equal(t, "ab\uFFFDc\uFFFD", text("ab\xffc\x00"))
	assert.Equal(t, "", text(""))
}
