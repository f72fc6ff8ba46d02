package redisstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
)

// TestRedisCRC64 checks the checksum against Redis's own test vector
// (crc64.c: crc64(0, "123456789")).
func TestRedisCRC64(t *testing.T) {
	assert.Equal(t, uint64(0xe9c6d914c4b8d9ca), redisCRC64([]byte("123456789")))
	assert.Zero(t, redisCRC64(nil))
}

func TestAppendRDBLen(t *testing.T) {
	for n, want := range map[int]string{
		0:         "00",
		63:        "3f",
		64:        "4040",
		16383:     "7fff",
		16384:     "8000004000",
		1<<32 - 1: "80ffffffff",
		1 << 32:   "810000000100000000",
	} {
		got := appendRDBLen(nil, n)
		assert.Equal(t, want, hex.EncodeToString(got), "%d", n)
		assert.Len(t, got, rdbLenSize(n), "%d", n)
	}
}

// dumpServer is a server of the test's own whose DUMP does not compress
// (rdbcompression no), so that its payloads can be compared with ours.
func dumpServer(t testing.TB) *redis.Client {
	t.Helper()
	srv := redistest.Standalone(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.ConfigSet(context.Background(), "rdbcompression", "no").Err())
	return c
}

// checkRestores writes fields with HSET under one key and RESTOREs each
// payload the encoder makes of them under others, and requires the
// restored hashes to be the HSET one: the same fields, the same encoding
// (listpack or hashtable), the TTL; and a listpack payload to be
// byte for byte what DUMP returns for the HSET one.
func checkRestores(t testing.TB, c *redis.Client, fields []any) {
	t.Helper()
	ctx := context.Background()
	base := "dump:" + strconv.FormatInt(rand.Int64(), 36)
	require.NoError(t, c.HSet(ctx, base, fields...).Err())
	defer c.Del(ctx, base)
	want := c.HGetAll(ctx, base).Val()
	require.Len(t, want, len(fields)/2, "fields must be distinct")
	enc := c.ObjectEncoding(ctx, base).Val()
	payloads := map[string][]byte{"hash": dumpHash(fields)}
	if listpackable(fields) {
		require.Equal(t, "listpack", enc, "listpackable, yet HSET made a %s", enc)
		payloads["listpack"] = dumpListpack(fields)
		dumped, err := c.Dump(ctx, base).Result()
		require.NoError(t, err)
		assert.Equal(t, hex.EncodeToString([]byte(dumped)), hex.EncodeToString(payloads["listpack"]), "DUMP of the HSET hash")
	}
	for kind, p := range payloads {
		key := base + ":" + kind
		require.NoError(t, c.Restore(ctx, key, time.Minute, string(p)).Err(), kind)
		assert.Equal(t, want, c.HGetAll(ctx, key).Val(), kind)
		assert.Equal(t, enc, c.ObjectEncoding(ctx, key).Val(), kind)
		ttl := c.PTTL(ctx, key).Val()
		assert.True(t, ttl > 50*time.Second && ttl <= time.Minute, "%s: TTL %v", kind, ttl)
		c.Del(ctx, key)
	}
}

// TestDumpRestores: what the encoder makes restores to the hash HSET
// makes of the same fields, at every length encoding's boundary, with
// binary and empty values, integer-looking strings at every integer
// encoding's boundary (a listpack keeps those as integers), and many
// fields.
func TestDumpRestores(t *testing.T) {
	c := dumpServer(t)
	// Also with the server's deep check of every payload's structure
	// (sanitize-dump-payload yes): the payloads pass it too.
	for _, sanitize := range []string{"no", "yes"} {
		t.Run("Sanitize="+sanitize, func(t *testing.T) {
			require.NoError(t, c.ConfigSet(context.Background(), "sanitize-dump-payload", sanitize).Err())
			dumpRestores(t, c)
		})
	}
}

func dumpRestores(t *testing.T, c *redis.Client) {
	now := time.UnixMilli(1_764_000_000_123)
	m := store.Meta{CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(24 * time.Hour), IP: "192.0.2.1"}
	rec := func(values map[string][]byte) []any {
		return recordArgs(&m, deadline(now, time.Hour, m.ExpiresAt), values)
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	t.Run("NewSession", func(t *testing.T) { checkRestores(t, c, rec(map[string][]byte{"count": []byte("1")})) })
	t.Run("NoValues", func(t *testing.T) { checkRestores(t, c, rec(nil)) })
	t.Run("Empty", func(t *testing.T) { checkRestores(t, c, rec(map[string][]byte{"": {}, "e": nil})) })
	t.Run("Binary", func(t *testing.T) { checkRestores(t, c, rec(map[string][]byte{"b": binary, "nul": {0}, "ff": {0xff}})) })
	for _, n := range []int{63, 64, 65, 4095, 4096, 16383, 16384, 70000} {
		t.Run(fmt.Sprintf("Len%d", n), func(t *testing.T) {
			checkRestores(t, c, rec(map[string][]byte{"v": []byte(strings.Repeat("x", n))}))
		})
	}
	// The longest values a listpack takes, which use its 6- and 12-bit
	// string lengths (the field name "v:" + 62 bytes is 64).
	t.Run("Len62Key", func(t *testing.T) {
		checkRestores(t, c, rec(map[string][]byte{strings.Repeat("k", 62): []byte(strings.Repeat("y", 64))}))
	})
	ints := []string{
		"0", "1", "127", "128", "-1", "4095", "4096", "-4096", "-4097",
		"32767", "32768", "-32768", "-32769", "8388607", "8388608", "-8388608", "-8388609",
		"2147483647", "2147483648", "-2147483648", "-2147483649",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"-0", "007", "+1", " 1", "1 ", "1e3", "0x10", "", "-",
	}
	t.Run("Integers", func(t *testing.T) {
		v := map[string][]byte{}
		for i, s := range ints {
			v["i"+strconv.Itoa(i)] = []byte(s)
		}
		checkRestores(t, c, rec(v))
	})
	t.Run("IntegersAsNames", func(t *testing.T) {
		var f []any
		for _, s := range ints {
			f = append(f, "n"+s, s) // names start with a letter: distinct
		}
		f = append(f, "1", "one", "-4096", "x")
		checkRestores(t, c, f)
	})
	for _, n := range []int{127, 128, 129, 1000} {
		t.Run(fmt.Sprintf("Fields%d", n), func(t *testing.T) {
			v := map[string][]byte{}
			for i := range n - 8 { // recordArgs adds 8 metadata fields
				v["k"+strconv.Itoa(i)] = []byte(strconv.Itoa(i * 37))
			}
			f := rec(v)
			require.Len(t, f, 2*n)
			checkRestores(t, c, f)
		})
	}
}

// randomRecord is a record of random metadata and values: keys and
// values of random lengths around the encodings' boundaries, some of them
// integer-looking, some binary.
func randomRecord(r *rand.Rand) (*store.Meta, map[string][]byte) {
	str := func() []byte {
		switch r.IntN(5) {
		case 0:
			return []byte(strconv.FormatInt(r.Int64N(1<<40)-1<<39, 10))
		case 1:
			b := make([]byte, r.IntN(8))
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
			return b
		default:
			lengths := []int{0, 1, 63, 64, 65, 200, 4096, 16384}
			return []byte(strings.Repeat(string(rune('a'+r.IntN(26))), lengths[r.IntN(len(lengths))]))
		}
	}
	now := time.UnixMilli(1_764_000_000_000 + r.Int64N(1e9))
	m := &store.Meta{
		CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Duration(r.IntN(48)+1) * time.Hour),
		UserAgent: string(str()), IP: string(str()), Label: string(str()), Remembered: r.IntN(2) == 0,
	}
	if r.IntN(2) == 0 {
		m.Idle = time.Duration(r.IntN(1e7)+1) * time.Millisecond
		m.Metadata = map[string]string{string(str()): string(str())}
	}
	v := map[string][]byte{}
	for range r.IntN(150) {
		v[string(str())] = str()
	}
	return m, v
}

// TestCreateRestoresAsHSet: any anonymous record the store creates (with
// RESTORE) is the hash the HSET path writes for it, the same fields and
// encoding, with the TTL Create gives; random records, seeded so that a
// failure can be replayed.
func TestCreateRestoresAsHSet(t *testing.T) {
	c := dumpServer(t)
	s := &Store{c: c, opts: Options{Prefix: "prop:"}}
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range 300 {
		m, v := randomRecord(r)
		id := strconv.Itoa(i)
		now := m.LastSeen
		_, err := s.Create(ctx, id, &store.Record{Meta: *m, Values: v}, store.WriteOptions{Now: now, Idle: time.Hour})
		require.NoError(t, err, "record %d", i)
		dl := deadline(now, idleFor(m, time.Hour), m.ExpiresAt)
		require.NoError(t, c.HSet(ctx, "hset:"+id, recordArgs(m, dl, v)...).Err())
		require.Equal(t, c.HGetAll(ctx, "hset:"+id).Val(), c.HGetAll(ctx, s.key(id)).Val(), "record %d", i)
		require.Equal(t, c.ObjectEncoding(ctx, "hset:"+id).Val(), c.ObjectEncoding(ctx, s.key(id)).Val(), "record %d", i)
		ttl := c.PTTL(ctx, s.key(id)).Val()
		require.True(t, ttl > time.Duration(dl-millis(now)-5000)*time.Millisecond && ttl <= time.Duration(dl-millis(now))*time.Millisecond,
			"record %d: TTL %v, deadline in %dms", i, ttl, dl-millis(now))
	}
	assert.False(t, s.noRestore.Load() || s.noListpack.Load(), "fell back")
}

// FuzzDump: fields of any bytes restore to what HSET makes of them.
func FuzzDump(f *testing.F) {
	f.Add("a", "1", "b", "", "c", "-4096")
	f.Add("m:ls", "9223372036854775807", "v:\x00", "\xff\xfe", "v:x", strings.Repeat("z", 70))
	f.Add("1", "007", "-1", "+1", "x", strings.Repeat("q", 16384))
	c := dumpServer(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		if k1 == k2 || k2 == k3 || k1 == k3 {
			return // a hash's fields are distinct
		}
		checkRestores(t, c, []any{k1, v1, k2, []byte(v2), k3, v3})
	})
}

// TestCanonicalInt: canonicalInt takes exactly the strings that
// strconv.ParseInt reads and strconv.FormatInt writes back the same, as
// strings and as bytes.
func TestCanonicalInt(t *testing.T) {
	cases := []string{
		"0", "1", "-1", "127", "-4096", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
		"99999999999999999999", "-99999999999999999999", "100000000000000000000",
		"-0", "00", "007", "+1", " 1", "1 ", "1e3", "0x10", "1_000", "", "-", "+", "--1", "a", "v:1",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		cases = append(cases, strconv.FormatInt(int64(r.Uint64()), 10), strconv.FormatInt(r.Int64N(1000)-500, 10))
	}
	for _, s := range cases {
		p, err := strconv.ParseInt(s, 10, 64)
		want := err == nil && strconv.FormatInt(p, 10) == s
		n, ok := canonicalInt(s)
		nb, okb := canonicalInt([]byte(s))
		require.Equal(t, want, ok, "%q", s)
		require.Equal(t, want, okb, "%q as bytes", s)
		if want {
			require.Equal(t, p, n, "%q", s)
			require.Equal(t, p, nb, "%q as bytes", s)
		}
	}
}

// TestDumpRecord: dumpRecord is dumpListpack(recordArgs(...)), byte for
// byte (records of one value at most, whose order is fixed), and fits
// exactly what listpackable takes.
func TestDumpRecord(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		m, v := randomRecord(r)
		if i%2 == 0 {
			for k := range v {
				if len(v) > 1 {
					delete(v, k)
				}
			}
		}
		dl := deadline(m.LastSeen, idleFor(m, time.Hour), m.ExpiresAt)
		fields := recordArgs(m, dl, v)
		got, ok := dumpRecord(m, dl, v)
		require.Equal(t, listpackable(fields), ok, "record %d", i)
		if !ok {
			require.Nil(t, got)
			continue
		}
		if len(v) <= 1 {
			require.Equal(t, dumpListpack(fields), got, "record %d", i)
		} else {
			require.Len(t, got, len(dumpListpack(fields)), "record %d", i)
		}
	}
	// The most values a listpack takes (8 metadata fields and 120) and
	// one more.
	now := time.UnixMilli(1_764_000_000_123)
	m := store.Meta{CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	v := map[string][]byte{}
	for i := range 121 {
		if i == 120 {
			_, ok := dumpRecord(&m, millis(now), v)
			require.True(t, ok, "%d values", len(v))
		}
		v[strconv.Itoa(i)] = []byte(strconv.Itoa(i * 37))
	}
	got, ok := dumpRecord(&m, millis(now), v)
	require.False(t, ok, "%d values", len(v))
	require.Nil(t, got)
}
