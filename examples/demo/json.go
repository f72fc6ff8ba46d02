package demo

import (
	"errors"
	"math"
	"strconv"
	"strings"
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
	MsgLabelInvalid     = `form field "label" is invalid (at most 64 characters, no control characters)`
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
	// Sessions is the answer of GET /sessions: each session as
	// core.SessionInfo renders itself (the id is the token's SHA-256,
	// never the token; times RFC 3339, as encoding/json writes a
	// time.Time, with fractional seconds).
	Sessions struct {
		Sessions []core.SessionInfo `json:"sessions"`
	}
)

// ErrorOf is the Error body for msg.
func ErrorOf(msg string) Error { return Error{Error: msg} }

// SessionList is the answer of GET /sessions for the list
// core.Session.Sessions returns (which marks the current session): never
// null in JSON.
func SessionList(infos []core.SessionInfo) Sessions {
	if infos == nil {
		infos = []core.SessionInfo{}
	}
	return Sessions{Sessions: infos}
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

// LoginOptions are the options the login form's remember and label fields
// choose, for core.Session.LoginWith, which validates the label (a label
// it refuses is an error wrapping core.ErrLoginOptions: Answer gives it
// 400 and MsgLabelInvalid). remember is on for "1", "true" or "on" (what
// an HTML checkbox sends), off for anything else; the label loses its
// surrounding blanks, and an empty one is none.
func LoginOptions(remember, label string) core.LoginOptions {
	return core.LoginOptions{
		Remember: remember == "1" || remember == "true" || remember == "on",
		Label:    strings.TrimSpace(label),
	}
}

// CheckValue validates a value's body: text, which JSON can carry
// faithfully.
func CheckValue(body []byte) error {
	if !utf8.Valid(body) {
		return ErrBodyNotText
	}
	return nil
}
