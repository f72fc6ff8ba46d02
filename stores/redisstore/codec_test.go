package redisstore

import (
	"errors"
	"strconv"
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
	for _, p := range [][2]time.Time{{m.CreatedAt, rec.Meta.CreatedAt}, {m.IssuedAt, rec.Meta.IssuedAt},
		{m.LastSeen, rec.Meta.LastSeen}, {m.ExpiresAt, rec.Meta.ExpiresAt}} {
		assert.WithinDuration(t, p[0], p[1], time.Millisecond)
	}
	assert.Equal(t, values, rec.Values, "value keys that look like fields stay values")
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
