package redisstore

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// ErrCorrupt is wrapped by the error a Store returns when what it finds under
// a session key is not what it writes there: a metadata field that does not
// parse, a record missing one, a key of another type (WRONGTYPE). It is the
// contract's store.ErrCorrupt: the manager treats such a session as
// invalid (an event, a fresh session), never trusted and never absent.
var ErrCorrupt = store.ErrCorrupt

// Fields of a session hash. Metadata lives in reserved "m:" fields and each
// value in a "v:"+key field, so no key a handler chooses can land on
// metadata. Times are Unix milliseconds in decimal.
const (
	fieldUser      = "m:uid"
	fieldCreated   = "m:ct"
	fieldIssued    = "m:it"
	fieldLastSeen  = "m:ls"
	fieldExpires   = "m:exp"
	fieldDeadline  = "m:dl" // min(LastSeen+idle, ExpiresAt) at the last write or touch
	fieldUserAgent = "m:ua"
	fieldIP        = "m:ip"

	// What a login chose (store.Meta's Idle, Remembered, Label, Metadata,
	// Binding). Each is written only when set: a record without one holds
	// the zero value, and a Meta replacing one without it deletes it.
	fieldIdle       = "m:idle" // the own idle timeout, in whole milliseconds (> 0)
	fieldRemembered = "m:rem"  // "1"
	fieldLabel      = "m:lbl"
	fieldMetadata   = "m:md" // netstrings, see encodeMetadata
	fieldBinding    = "m:bind"

	// A forwarding entry (Renew with grace) holds only these.
	fieldNext     = "m:next" // the successor's ID
	fieldGraceEnd = "m:gend" // end of the grace period, caller's clock
	fieldMovedAt  = "m:at"   // server time of the renewal

	// Between a Renew's two round trips (and after one interrupted), its
	// forwarding entry or marker also keeps a copy of the record, each
	// field under keptPrefix + its name, and the record's expiry.
	keptPrefix    = "c:"
	fieldKeptTill = "m:till" // server time, Unix ms; -1 for none

	// Markers that are not sessions and load as missing.
	fieldGone    = "m:gone" // renewed without grace: the successor's ID
	fieldRevoked = "m:rev"  // revoked or evicted before its record was written

	valuePrefix = "v:"
)

// listFields are the fields ListUser and Walk read: metadata and kind,
// never values.
var listFields = []string{
	fieldUser, fieldCreated, fieldIssued, fieldLastSeen, fieldExpires,
	fieldDeadline, fieldUserAgent, fieldIP,
	fieldIdle, fieldRemembered, fieldLabel, fieldMetadata, fieldBinding,
	fieldNext, fieldGone, fieldRevoked,
}

// loginFields are the fields written only when set (see fieldIdle): a
// Meta that replaces the record's deletes those it leaves unset.
var loginFields = []string{fieldIdle, fieldRemembered, fieldLabel, fieldMetadata, fieldBinding}

func millis(t time.Time) int64 { return t.UnixMilli() }

// deadline is Meta.Deadline in milliseconds: the earlier of the idle and the
// absolute deadline.
func deadline(lastSeen time.Time, idle time.Duration, expires time.Time) int64 {
	return min(millis(lastSeen)+idle.Milliseconds(), millis(expires))
}

// idleMillis is an own idle timeout as stored: whole milliseconds, at
// least 1 when set (a timeout under a millisecond is not rounded down to
// none), 0 for none.
func idleMillis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return max(d.Milliseconds(), 1)
}

// idleFor is the idle timeout that applies to a record with metadata m,
// under a call's idle timeout: m's own (as stored, see idleMillis) where
// set, else the call's. It is Meta.IdleTimeout as the scripts apply it.
func idleFor(m *store.Meta, call time.Duration) time.Duration {
	if ms := idleMillis(m.Idle); ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return call
}

// metaArgs are a record's metadata fields as HSET arguments, LastSeen and
// the deadline excepted: the scripts that write them take them apart. The
// login's fields are there only when set.
func metaArgs(m *store.Meta) []any {
	return appendMetaArgs(make([]any, 0, metaArgsMax), m)
}

// metaArgsMax is the most arguments metaArgs makes: 6 fields, 5 login
// fields, each with its value.
const metaArgsMax = 2 * (6 + 5)

// appendMetaArgs appends metaArgs(m) to args.
func appendMetaArgs(args []any, m *store.Meta) []any {
	args = append(args,
		fieldUser, m.UserID,
		fieldCreated, millis(m.CreatedAt),
		fieldIssued, millis(m.IssuedAt),
		fieldExpires, millis(m.ExpiresAt),
		fieldUserAgent, m.UserAgent,
		fieldIP, m.IP,
	)
	if ms := idleMillis(m.Idle); ms > 0 {
		args = append(args, fieldIdle, ms)
	}
	if m.Remembered {
		args = append(args, fieldRemembered, "1")
	}
	if m.Label != "" {
		args = append(args, fieldLabel, m.Label)
	}
	if len(m.Metadata) > 0 {
		args = append(args, fieldMetadata, encodeMetadata(m.Metadata))
	}
	if m.Binding != "" {
		args = append(args, fieldBinding, m.Binding)
	}
	return args
}

// unsetLoginFields are the login fields m leaves unset: a write replacing
// a record's metadata with m deletes them.
func unsetLoginFields(m *store.Meta) []string {
	set := map[string]bool{
		fieldIdle:       m.Idle > 0,
		fieldRemembered: m.Remembered,
		fieldLabel:      m.Label != "",
		fieldMetadata:   len(m.Metadata) > 0,
		fieldBinding:    m.Binding != "",
	}
	var out []string
	for _, f := range loginFields {
		if !set[f] {
			out = append(out, f)
		}
	}
	return out
}

// encodeMetadata encodes a Metadata map as netstrings
// (https://cr.yp.to/proto/netstrings.txt): each key and then its value as
// <length>:<bytes>, in increasing order of keys, so "device" → "phone" is
// "6:device,5:phone,". Compact, byte-exact for any string (no escaping,
// no UTF-8 requirement) and canonical: one map has one encoding.
func encodeMetadata(md map[string]string) string {
	keys := slices.Sorted(maps.Keys(md))
	n := 0
	for _, k := range keys {
		n += len(k) + len(md[k]) + 2*(2+len(strconv.Itoa(len(k))))
	}
	b := make([]byte, 0, n)
	for _, k := range keys {
		for _, s := range []string{k, md[k]} {
			b = strconv.AppendInt(b, int64(len(s)), 10)
			b = append(b, ':')
			b = append(b, s...)
			b = append(b, ',')
		}
	}
	return string(b)
}

// decodeMetadata is encodeMetadata's inverse, and accepts nothing it does
// not write: a length with a sign, a leading zero or more digits than the
// input has bytes, a missing ':' or ',', a key without its value, keys out
// of order or repeated, bytes after the last netstring. An empty string
// is no metadata (nil).
func decodeMetadata(s string) (map[string]string, error) {
	var md map[string]string
	next := func() (string, bool) {
		colon := strings.IndexByte(s, ':')
		if colon < 1 || colon > 9 || (colon > 1 && s[0] == '0') {
			return "", false
		}
		n := 0
		for _, c := range []byte(s[:colon]) {
			if c < '0' || c > '9' {
				return "", false
			}
			n = n*10 + int(c-'0')
		}
		rest := s[colon+1:]
		if n >= len(rest) || rest[n] != ',' {
			return "", false
		}
		v := rest[:n]
		s = rest[n+1:]
		return v, true
	}
	last := ""
	for len(s) > 0 {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 || (md != nil && k <= last) {
			return nil, errors.New("not netstrings in order")
		}
		if md == nil {
			md = make(map[string]string, 4)
		}
		md[k], last = v, k
	}
	return md, nil
}

// recordArgs are every field of a record as HSET arguments.
func recordArgs(m *store.Meta, dl int64, values map[string][]byte) []any {
	args := appendMetaArgs(make([]any, 0, metaArgsMax+4+2*len(values)), m)
	args = append(args, fieldLastSeen, millis(m.LastSeen), fieldDeadline, dl)
	for k, v := range values {
		args = append(args, valuePrefix+k, v)
	}
	return args
}

// decodeRecord turns a script's flat field/value list (HGETALL's reply,
// as a script returns it) into a record.
func decodeRecord(flat []any) (*store.Record, error) {
	if len(flat)%2 != 0 {
		return nil, fmt.Errorf("%w: odd field list", ErrCorrupt)
	}
	h := make(map[string]string, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		name, ok1 := flat[i].(string)
		val, ok2 := flat[i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: non-string field", ErrCorrupt)
		}
		h[name] = val
	}
	rec, _, err := decodeHash(h)
	return rec, err
}

// decodeHash turns a session hash's fields into a record and its stored
// deadline. The values map is built fresh: nothing the caller later does
// to it reaches the store, and no later write reaches it.
func decodeHash(h map[string]string) (*store.Record, int64, error) {
	var values map[string][]byte
	for name, val := range h {
		if k, ok := strings.CutPrefix(name, valuePrefix); ok {
			if values == nil {
				values = make(map[string][]byte, len(h))
			}
			values[k] = []byte(val)
		}
	}
	m, dl, err := decodeMeta(func(f string) (string, bool) { v, ok := h[f]; return v, ok })
	if err != nil {
		return nil, 0, err
	}
	return &store.Record{Meta: m, Values: values}, dl, nil
}

// decodeMeta reads a record's metadata through get, which reports a field's
// value and whether it is present, and returns it with the stored deadline.
// Strings may be absent (an empty user), and so may the login's fields
// (their zero value); times may not. A field present but malformed is
// ErrCorrupt.
func decodeMeta(get func(string) (string, bool)) (m store.Meta, dl int64, err error) {
	str := func(f string) string { v, _ := get(f); return v }
	num := func(f string) int64 {
		v, ok := get(f)
		if !ok {
			if err == nil {
				err = fmt.Errorf("%w: field %s missing", ErrCorrupt, f)
			}
			return 0
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("%w: field %s: %q is not a time", ErrCorrupt, f, truncate(v))
		}
		return n
	}
	bad := func(f, v string) {
		if err == nil {
			err = fmt.Errorf("%w: field %s: %q", ErrCorrupt, f, truncate(v))
		}
	}
	m = store.Meta{
		UserID:    str(fieldUser),
		CreatedAt: time.UnixMilli(num(fieldCreated)),
		IssuedAt:  time.UnixMilli(num(fieldIssued)),
		LastSeen:  time.UnixMilli(num(fieldLastSeen)),
		ExpiresAt: time.UnixMilli(num(fieldExpires)),
		UserAgent: str(fieldUserAgent),
		IP:        str(fieldIP),
		Label:     str(fieldLabel),
		Binding:   str(fieldBinding),
	}
	dl = num(fieldDeadline)
	if v, ok := get(fieldIdle); ok {
		// As the scripts read it (luaLib's int): decimal digits, no sign
		// but a minus, at most 16 of them; and, as written, positive.
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n <= 0 || len(v) > 16 || v[0] == '+' {
			bad(fieldIdle, v)
		}
		m.Idle = time.Duration(n) * time.Millisecond
	}
	if v, ok := get(fieldRemembered); ok {
		if v != "1" {
			bad(fieldRemembered, v)
		}
		m.Remembered = true
	}
	if v, ok := get(fieldMetadata); ok {
		md, merr := decodeMetadata(v)
		if merr != nil {
			bad(fieldMetadata, v)
		}
		m.Metadata = md
	}
	return m, dl, err
}

// truncate keeps foreign data out of error messages beyond a few bytes.
func truncate(s string) string {
	const n = 32
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
