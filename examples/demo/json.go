package demo

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/core"
)

// Limits and names every example keeps alike.
const (
	// CountKey is the value /counter reads and increments. It shares one
	// namespace with /values/{name}.
	CountKey = "count"
	// MaxBodyBytes caps a request body (a value, a login form); beyond it
	// the examples answer 413.
	MaxBodyBytes = 64 << 10
	// MaxUserBytes caps the user id a login accepts.
	MaxUserBytes = 256
)

// Error messages the examples answer with, in an Error body.
const (
	MsgNotLoggedIn      = "not logged in"
	MsgStoreUnavailable = "session store unavailable" // the adapters' default 503 body says the same
	MsgInternal         = "internal error"
	MsgNoSuchSession    = "no such session"
	MsgUserRequired     = `form field "user" is required`
	MsgUserTooLong      = `form field "user" is too long`
	MsgBodyTooLarge     = "request body too large"
	MsgSessionFull      = "session values too large"
	MsgBodyNotText      = "request body is not UTF-8 text"
	MsgUserNotText      = `form field "user" is not UTF-8 text`
	MsgBadForm          = "malformed form body"
	MsgBadPath          = "malformed escape in the path"
	MsgCountNotNumber   = `value "count" is not a number`
	MsgCountOverflow    = `value "count" cannot grow further`
)

// Response bodies, one type per shape in the demo contract.
type (
	// OK is {"ok":true}.
	OK struct {
		OK bool `json:"ok"`
	}
	// Error is {"error":"..."}.
	Error struct {
		Error string `json:"error"`
	}
	// Count is the answer of /counter.
	Count struct {
		Count int64 `json:"count"`
	}
	// Value is the answer of /values/{name}. Value keeps the type it was
	// stored with, so the counter shows as a number.
	Value struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}
	// User is the answer of /login and /me.
	User struct {
		User string `json:"user"`
	}
	// Revoked is the answer of the revoking routes.
	Revoked struct {
		Revoked int `json:"revoked"`
	}
	// Sessions is the answer of GET /sessions.
	Sessions struct {
		Sessions []Session `json:"sessions"`
	}
	// Session is one entry of a user's session list. ID is the opaque store
	// id (the token's SHA-256), never the token. Times are RFC 3339, UTC.
	Session struct {
		ID        string `json:"id"`
		Current   bool   `json:"current"`
		CreatedAt string `json:"created_at"`
		LastSeen  string `json:"last_seen"`
		ExpiresAt string `json:"expires_at"`
		UserAgent string `json:"user_agent"`
		IP        string `json:"ip"`
	}
)

// ErrorOf is the Error body for msg.
func ErrorOf(msg string) Error { return Error{Error: msg} }

// ListSessions shapes a user's sessions for GET /sessions, marking the one
// whose id is currentID. The list is never null in JSON.
func ListSessions(infos []core.SessionInfo, currentID string) Sessions {
	out := Sessions{Sessions: make([]Session, 0, len(infos))}
	for _, in := range infos {
		out.Sessions = append(out.Sessions, Session{
			ID:        in.ID,
			Current:   currentID != "" && in.ID == currentID,
			CreatedAt: rfc3339(in.CreatedAt),
			LastSeen:  rfc3339(in.LastSeen),
			ExpiresAt: rfc3339(in.ExpiresAt),
			UserAgent: in.UserAgent,
			IP:        in.IP,
		})
	}
	return out
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Errors of ReadCount and Increment.
var (
	// ErrCountNotNumber: the count key holds a value that is not an
	// integer (PUT /values/count with text). The examples answer 409.
	ErrCountNotNumber = errors.New(MsgCountNotNumber)
	// ErrCountOverflow: the count is at its maximum. The examples answer 409.
	ErrCountOverflow = errors.New(MsgCountOverflow)
)

// ReadCount returns the counter: 0 when absent. Since values share one
// namespace, count may have been set through PUT /values/count as text; a
// text that is an integer counts as that integer.
func ReadCount(s *core.Session) (int64, error) {
	n, err := core.Lookup[int64](s, CountKey)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, core.ErrNoValue):
		return 0, nil
	}
	if text, ok := core.Get[string](s, CountKey); ok {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, ErrCountNotNumber
}

// Increment adds one to the counter and stores it as an integer.
func Increment(s *core.Session) (int64, error) {
	n, err := ReadCount(s)
	if err != nil {
		return 0, err
	}
	if n == math.MaxInt64 {
		return n, ErrCountOverflow
	}
	n++
	if err := s.Put(CountKey, n); err != nil {
		return 0, err
	}
	return n, nil
}

// Errors of CheckUser and CheckValue; each example answers them with 400.
var (
	ErrUserRequired = errors.New(MsgUserRequired)
	ErrUserTooLong  = errors.New(MsgUserTooLong)
	ErrUserNotText  = errors.New(MsgUserNotText)
	ErrBodyNotText  = errors.New(MsgBodyNotText)
)

// CheckUser validates the login form's user field and returns it without
// surrounding blanks.
func CheckUser(user string) (string, error) {
	user = strings.TrimSpace(user)
	switch {
	case user == "":
		return "", ErrUserRequired
	case len(user) > MaxUserBytes:
		return "", ErrUserTooLong
	case !utf8.ValidString(user):
		return "", ErrUserNotText
	}
	return user, nil
}

// CheckValue validates a value's body: text, which JSON can carry
// faithfully.
func CheckValue(body []byte) error {
	if !utf8.Valid(body) {
		return ErrBodyNotText
	}
	return nil
}
