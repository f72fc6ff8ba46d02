package redisstore

import (
	"fmt"
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

// listFields are the fields ListUser reads: metadata and kind, never values.
var listFields = []string{
	fieldUser, fieldCreated, fieldIssued, fieldLastSeen, fieldExpires,
	fieldDeadline, fieldUserAgent, fieldIP, fieldNext, fieldGone, fieldRevoked,
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// deadline is Meta.Deadline in milliseconds: the earlier of the idle and the
// absolute deadline.
func deadline(lastSeen time.Time, idle time.Duration, expires time.Time) int64 {
	return min(millis(lastSeen)+idle.Milliseconds(), millis(expires))
}

// metaArgs are a record's metadata fields as HSET arguments, LastSeen and
// the deadline excepted: the scripts that write them take them apart.
func metaArgs(m *store.Meta) []any {
	return []any{
		fieldUser, m.UserID,
		fieldCreated, millis(m.CreatedAt),
		fieldIssued, millis(m.IssuedAt),
		fieldExpires, millis(m.ExpiresAt),
		fieldUserAgent, m.UserAgent,
		fieldIP, m.IP,
	}
}

// recordArgs are every field of a record as HSET arguments.
func recordArgs(m *store.Meta, dl int64, values map[string][]byte) []any {
	args := metaArgs(m)
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
// Strings may be absent (an empty user); times may not.
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
	m = store.Meta{
		UserID:    str(fieldUser),
		CreatedAt: time.UnixMilli(num(fieldCreated)),
		IssuedAt:  time.UnixMilli(num(fieldIssued)),
		LastSeen:  time.UnixMilli(num(fieldLastSeen)),
		ExpiresAt: time.UnixMilli(num(fieldExpires)),
		UserAgent: str(fieldUserAgent),
		IP:        str(fieldIP),
	}
	dl = num(fieldDeadline)
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
