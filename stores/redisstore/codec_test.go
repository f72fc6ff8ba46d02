package redisstore

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

func TestCodecRoundTrip(t *testing.T) {
	now := time.Now()
	m := store.Meta{
		UserID: "alice", CreatedAt: now.Add(-3 * time.Second), IssuedAt: now.Add(-2 * time.Second),
		LastSeen: now.Add(-time.Second), ExpiresAt: now.Add(time.Hour), UserAgent: "ua", IP: "2001:db8::1",
		Idle: 7 * 24 * time.Hour, Remembered: true, Label: "Work laptop", Binding: "b1nd",
		Metadata: map[string]string{"device": "phone", "": "empty key", "5:x,": "looks like a netstring", "bytes": "\xff\x00,:"},
	}
	values := map[string][]byte{"a": []byte("1"), "v:nested": []byte("x"), "m:uid": []byte("not metadata"), "empty": {}}
	dl := deadline(m.LastSeen, 30*time.Minute, m.ExpiresAt)
	args := recordArgs(&m, dl, values)
	flat := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case int64:
			flat[i] = strconv.FormatInt(v, 10)
		case []byte:
			flat[i] = string(v)
		default:
			flat[i] = v
		}
	}
	rec, err := decodeRecord(flat)
	require.NoError(t, err)
	assert.Equal(t, m.UserID, rec.Meta.UserID)
	assert.Equal(t, m.UserAgent, rec.Meta.UserAgent)
	assert.Equal(t, m.IP, rec.Meta.IP)
	assert.Equal(t, m.Idle, rec.Meta.Idle)
	assert.True(t, rec.Meta.Remembered)
	assert.Equal(t, m.Label, rec.Meta.Label)
	assert.Equal(t, m.Binding, rec.Meta.Binding)
	assert.Equal(t, m.Metadata, rec.Meta.Metadata)
	for _, p := range [][2]time.Time{{m.CreatedAt, rec.Meta.CreatedAt}, {m.IssuedAt, rec.Meta.IssuedAt},
		{m.LastSeen, rec.Meta.LastSeen}, {m.ExpiresAt, rec.Meta.ExpiresAt}} {
		assert.WithinDuration(t, p[0], p[1], time.Millisecond)
	}
	assert.Equal(t, values, rec.Values, "value keys that look like fields stay values")
}

// TestLoginFieldsOnlyWhenSet: a record without the login's details has
// none of their fields (no memory spent on them), and a Meta without them
// names every one for deletion.
func TestLoginFieldsOnlyWhenSet(t *testing.T) {
	now := time.Now()
	m := store.Meta{CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	args := metaArgs(&m)
	for i := 0; i < len(args); i += 2 {
		assert.NotContains(t, loginFields, args[i], "written though unset")
	}
	assert.Equal(t, loginFields, unsetLoginFields(&m))
	m.Idle, m.Metadata = time.Minute, map[string]string{"a": "b"}
	assert.Equal(t, []string{fieldRemembered, fieldLabel, fieldBinding}, unsetLoginFields(&m))
	m.Metadata = map[string]string{}
	assert.Contains(t, unsetLoginFields(&m), fieldMetadata, "an empty map is none")

	// An own idle timeout is whole milliseconds, and never rounded to none.
	assert.Equal(t, int64(1), idleMillis(time.Microsecond))
	assert.Equal(t, int64(1500), idleMillis(1500*time.Millisecond+time.Microsecond))
	assert.Equal(t, int64(0), idleMillis(0))
	assert.Equal(t, time.Millisecond, idleFor(&store.Meta{Idle: time.Microsecond}, time.Hour))
	assert.Equal(t, time.Hour, idleFor(&store.Meta{}, time.Hour))
}

func TestMetadataEncoding(t *testing.T) {
	assert.Equal(t, "6:device,5:phone,", encodeMetadata(map[string]string{"device": "phone"}))
	assert.Equal(t, "0:,0:,1:a,1:b,", encodeMetadata(map[string]string{"a": "b", "": ""}), "keys in order")
	for _, md := range []map[string]string{
		{"k": ""}, {"": "v"}, {"ünïcode": "\u2603", "bad utf-8": "\xff\xfe", "nul": "\x00"},
		{"1:a,": "2:bc,", ",": ":", "a": strings.Repeat("x", 1000)},
	} {
		got, err := decodeMetadata(encodeMetadata(md))
		require.NoError(t, err)
		assert.Equal(t, md, got)
	}
	got, err := decodeMetadata("")
	require.NoError(t, err)
	assert.Nil(t, got)
	for _, bad := range []string{
		"1:a,",                           // a key without its value
		"1:a,1:b", "1:a,1:b;", "1:a1:b,", // a missing ','
		"a:a,1:b,", ":a,1:b,", "-1:a,1:b,", "+1:a,1:b,", "01:a,1:b,", // bad lengths
		"2:a,1:b,", "9:a,1:b,", "9999999999:a,1:b,",
		"1:b,0:,1:a,0:,", "1:a,0:,1:a,1:x,", // out of order, repeated
		"1:a,1:b, ", "1:a,1:b,\n", // trailing bytes
		"{}", "null",
	} {
		_, err := decodeMetadata(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// FuzzMetadata: decoding never panics, and what it accepts is canonical:
// it encodes back to the very same bytes.
func FuzzMetadata(f *testing.F) {
	f.Add("6:device,5:phone,")
	f.Add("0:,0:,1:a,1:b,")
	f.Add("1:a,")
	f.Fuzz(func(t *testing.T, s string) {
		md, err := decodeMetadata(s)
		if err != nil {
			return
		}
		if enc := encodeMetadata(md); enc != s {
			t.Fatalf("decoded %q, which encodes as %q", s, enc)
		}
	})
}

func TestDeadline(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	assert.Equal(t, now.Add(30*time.Minute).UnixMilli(), deadline(now, 30*time.Minute, now.Add(time.Hour)), "idle first")
	assert.Equal(t, now.Add(10*time.Minute).UnixMilli(), deadline(now, 30*time.Minute, now.Add(10*time.Minute)), "lifetime first")
}

func TestDecodeRejects(t *testing.T) {
	good := []any{"m:ct", "1", "m:it", "2", "m:ls", "3", "m:exp", "4", "m:dl", "5"}
	_, err := decodeRecord(good)
	require.NoError(t, err)
	for name, flat := range map[string][]any{
		"odd":        good[:len(good)-1],
		"missing":    good[2:],
		"nonnumeric": append(append([]any{}, good[:9]...), "five"),
		"float":      append(append([]any{}, good[:9]...), "5.0"),
		"nonstring":  append(append([]any{}, good...), int64(1), "x"),
		"empty":      {},
		"idle":       append(append([]any{}, good...), "m:idle", "week"),
		"idlezero":   append(append([]any{}, good...), "m:idle", "0"),
		"idlesign":   append(append([]any{}, good...), "m:idle", "+5"),
		"idleneg":    append(append([]any{}, good...), "m:idle", "-5"),
		"idlelong":   append(append([]any{}, good...), "m:idle", "12345678901234567"),
		"remembered": append(append([]any{}, good...), "m:rem", "yes"),
		"metadata":   append(append([]any{}, good...), "m:md", `{"device":"phone"}`),
	} {
		_, err := decodeRecord(flat)
		assert.True(t, errors.Is(err, ErrCorrupt), "%s: %v", name, err)
	}
}

// FuzzDecodeRecord: no field list, however foreign, makes decoding panic;
// what it accepts has every time field.
func FuzzDecodeRecord(f *testing.F) {
	f.Add("m:ct", "1", "m:ls", "x", "v:a", "\xff")
	f.Add("m:dl", "-9223372036854775808", "m:exp", "9223372036854775807", "m:it", "")
	f.Add("", "", "v:", "", "m:uid", "alice")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		base := []any{"m:ct", "1", "m:it", "2", "m:ls", "3", "m:exp", "4", "m:dl", "5"}
		for _, flat := range [][]any{
			{k1, v1, k2, v2, k3, v3},
			append(append([]any{}, base...), k1, v1, k2, v2, k3, v3),
		} {
			rec, err := decodeRecord(flat)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error not wrapping ErrCorrupt: %v", err)
				}
				continue
			}
			if rec == nil {
				t.Fatal("nil record without an error")
			}
		}
	})
}

func TestKeys(t *testing.T) {
	o := Options{}
	id := "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	assert.Equal(t, "session:"+id, o.SessionKey(id))
	index, expiry := Options{Prefix: "app:"}.UserKeys("alice")
	// sha256("alice")
	assert.Equal(t, "app:u:{2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90}", index)
	assert.Equal(t, index+":x", expiry)
	other, _ := Options{Prefix: "app:"}.UserKeys("alice ")
	assert.NotEqual(t, index, other)
}
