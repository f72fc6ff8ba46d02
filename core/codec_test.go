package core

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type profile struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

type userID string

func roundTrip[T any](t *testing.T, in T) T {
	t.Helper()
	b, err := encodeValue(in)
	require.NoError(t, err)
	out, err := decodeValue[T](b)
	require.NoError(t, err)
	return out
}

func TestCodecRoundTrips(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("X", 3600))
	assert.Equal(t, "héllo", roundTrip(t, "héllo"))
	assert.Equal(t, "", roundTrip(t, ""))
	assert.Equal(t, []byte{0, 1, 2}, roundTrip(t, []byte{0, 1, 2}))
	assert.Equal(t, -42, roundTrip(t, -42))
	assert.Equal(t, int64(math.MinInt64), roundTrip(t, int64(math.MinInt64)))
	assert.Equal(t, uint64(math.MaxUint64), roundTrip(t, uint64(math.MaxUint64)))
	assert.Equal(t, int8(-7), roundTrip(t, int8(-7)))
	assert.Equal(t, 3.25, roundTrip(t, 3.25))
	assert.Equal(t, float32(1.5), roundTrip(t, float32(1.5)))
	assert.Equal(t, true, roundTrip(t, true))
	assert.Equal(t, false, roundTrip(t, false))
	assert.Equal(t, 90*time.Second, roundTrip(t, 90*time.Second))
	assert.True(t, now.Equal(roundTrip(t, now)))
	assert.Equal(t, profile{"ann", []string{"admin"}}, roundTrip(t, profile{"ann", []string{"admin"}}))
	assert.Equal(t, userID("u1"), roundTrip(t, userID("u1")), "named types need no registration")
	assert.Equal(t, map[string]int{"a": 1}, roundTrip(t, map[string]int{"a": 1}))
}

func TestCodecCompatibleIntegers(t *testing.T) {
	b, _ := encodeValue(300)
	v64, err := decodeValue[int64](b)
	require.NoError(t, err)
	assert.Equal(t, int64(300), v64)
	u, err := decodeValue[uint16](b)
	require.NoError(t, err)
	assert.Equal(t, uint16(300), u)
	_, err = decodeValue[int8](b)
	assert.ErrorIs(t, err, ErrDecode, "300 overflows int8")
	neg, _ := encodeValue(-1)
	_, err = decodeValue[uint](neg)
	assert.ErrorIs(t, err, ErrDecode, "negative into unsigned")
}

func TestCodecAny(t *testing.T) {
	b, _ := encodeValue(7)
	v, err := decodeValue[any](b)
	require.NoError(t, err)
	assert.Equal(t, int64(7), v)
	b, _ = encodeValue("s")
	v, err = decodeValue[any](b)
	require.NoError(t, err)
	assert.Equal(t, "s", v)
	b, _ = encodeValue(profile{Name: "x"})
	v, err = decodeValue[any](b)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name": "x", "roles": nil}, v)
}

func TestCodecTypeMismatch(t *testing.T) {
	b, _ := encodeValue("not a number")
	_, err := decodeValue[int](b)
	assert.ErrorIs(t, err, ErrDecode)
	b, _ = encodeValue(5)
	_, err = decodeValue[string](b)
	assert.ErrorIs(t, err, ErrDecode)
	_, err = decodeValue[profile](b)
	assert.ErrorIs(t, err, ErrDecode)
}

func TestCodecCorruptInput(t *testing.T) {
	corrupt := [][]byte{
		nil, {}, {tagInt}, {tagInt, 0x80}, {tagInt, 1, 2}, {tagFloat, 1}, {tagBool},
		{tagBool, 1, 1}, {tagTime, 9}, {tagJSON, '{'}, {tagUint, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{'?', 1, 2},
	}
	for _, b := range corrupt {
		_, err := decodeValue[int](b)
		assert.Error(t, err, "%v as int", b)
		_, err = decodeValue[any](b)
		if len(b) > 0 && (b[0] == tagJSON) {
			continue // JSON errors are checked below
		}
		assert.Error(t, err, "%v as any", b)
		_, err = decodeValue[time.Time](b)
		assert.Error(t, err, "%v as time", b)
		_, err = decodeValue[bool](b)
		assert.Error(t, err, "%v as bool", b)
	}
	_, err := decodeValue[profile]([]byte{tagJSON, '{'})
	assert.ErrorIs(t, err, ErrDecode)
}

func TestCodecUnencodable(t *testing.T) {
	_, err := encodeValue(make(chan int))
	assert.ErrorIs(t, err, ErrEncode)
	_, err = encodeValue(func() {})
	assert.ErrorIs(t, err, ErrEncode)
}

func FuzzDecodeValue(f *testing.F) {
	for _, v := range []any{"s", 1, -1, uint(2), 1.5, true, time.Unix(0, 0), profile{"a", nil}, []byte("x")} {
		b, _ := encodeValue(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Never panics, whatever the bytes; a success round-trips.
		if v, err := decodeValue[any](b); err == nil && len(b) > 0 && b[0] != tagJSON {
			again, err := encodeValue(v)
			require.NoError(t, err)
			_, err = decodeValue[any](again)
			require.NoError(t, err)
		}
		_, _ = decodeValue[string](b)
		_, _ = decodeValue[int8](b)
		_, _ = decodeValue[uint64](b)
		_, _ = decodeValue[time.Time](b)
		_, _ = decodeValue[profile](b)
	})
}

// Get of a common type costs no allocation beyond the value itself.
func TestDecodeAllocations(t *testing.T) {
	b, _ := encodeValue(42)
	if n := testing.AllocsPerRun(100, func() { _, _ = decodeValue[int](b) }); n != 0 {
		t.Errorf("decoding an int allocated %v times", n)
	}
	s, _ := encodeValue("hello")
	if n := testing.AllocsPerRun(100, func() { _, _ = decodeValue[string](s) }); n != 1 {
		t.Errorf("decoding a string allocated %v times, want 1 (the string)", n)
	}
}
