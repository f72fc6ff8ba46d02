package redisstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc64"
	"math"
	"strconv"

	"github.com/sessionkit/sessionkit/core/store"
)

// A new anonymous session is written with RESTORE, one command, from a
// serialisation built here in DUMP's format: what DUMP returns for a
// hash, had Redis stored it as a plain hash (the encoding RDB files used
// before listpacks; every Redis since 2.x reads it, and turns a small one
// into a listpack on loading it, as HSET makes one).
//
//	payload = 0x04 (a plain hash), <field count>,
//	          then each field and its value as <length><bytes>,
//	          then the RDB version (2 bytes, little-endian),
//	          then the CRC-64 of all the above (8 bytes, little-endian)
//
// A length is 6 bits in one byte below 64 (00xxxxxx), 14 bits in two
// below 16384 (01xxxxxx xxxxxxxx, big-endian), else 0x80 and 4 bytes, or
// 0x81 and 8 bytes, big-endian. The checksum is Redis's CRC-64: the Jones
// polynomial, reflected, initial value 0, no final xor.
const (
	rdbTypeHash = 4
	// dumpRDBVersion is the RDB version the payload declares: 9, Redis
	// 5.0's. A server accepts a payload of its own version or an older
	// one, so every Redis from 5.0 on (and Valkey) restores it.
	dumpRDBVersion = 9
)

// crcJones is Redis's CRC-64 table: the Jones polynomial
// 0xad93d23594c935a9, bit-reversed as hash/crc64 takes it.
var crcJones = crc64.MakeTable(0x95ac9329ac4bc9b5)

// redisCRC64 is Redis's crc64(0, p): hash/crc64 inverts the value before
// and after, which the two inversions here undo.
func redisCRC64(p []byte) uint64 {
	return ^crc64.Update(^uint64(0), crcJones, p)
}

// appendRDBLen appends n in RDB's length encoding.
func appendRDBLen(b []byte, n int) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case uint64(n) < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0x81), uint64(n))
	}
}

// rdbLenSize is how many bytes appendRDBLen takes for n.
func rdbLenSize(n int) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case uint64(n) < 1<<32:
		return 5
	default:
		return 9
	}
}

// dumpHash is the RESTORE payload of a hash holding fields, a flat list
// of field/value pairs as recordArgs makes them (strings, []byte and int64s;
// anything else as fmt.Sprint formats it). Field names must be distinct:
// Redis refuses a payload that repeats one.
func dumpHash(fields []any) []byte {
	n := 1 + rdbLenSize(len(fields)/2) + 2 + 8
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			n += rdbLenSize(len(v)) + len(v)
		case []byte:
			n += rdbLenSize(len(v)) + len(v)
		case int64:
			n += 1 + 20 // at most 20 bytes in decimal
		default:
			s := fmt.Sprint(v)
			n += rdbLenSize(len(s)) + len(s)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, rdbTypeHash)
	b = appendRDBLen(b, len(fields)/2)
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			b = append(appendRDBLen(b, len(v)), v...)
		case []byte:
			b = append(appendRDBLen(b, len(v)), v...)
		case int64:
			var d [20]byte
			s := strconv.AppendInt(d[:0], v, 10)
			b = append(appendRDBLen(b, len(s)), s...)
		default: // as go-redis would send it
			s := fmt.Sprint(v)
			b = append(appendRDBLen(b, len(s)), s...)
		}
	}
	b = binary.LittleEndian.AppendUint16(b, dumpRDBVersion)
	return binary.LittleEndian.AppendUint64(b, redisCRC64(b))
}

// A hash small enough for a listpack (at most listpackMaxPairs pairs,
// no field or value longer than listpackMaxValue bytes: the defaults of
// hash-max-listpack-entries and -value, under which HSET makes one) is
// sent as the listpack itself, RDB type 16 of RDB version 10 (Redis
// 7.0): the server then takes the blob as it is, without building it
// entry by entry. Servers before 7.0 refuse that version; the store then
// sends plain hashes (see createAnonymous).
const (
	rdbTypeHashListpack  = 16
	dumpListpackVersion  = 10
	listpackMaxPairs     = 128
	listpackMaxValue     = 64
	listpackHeaderSize   = 6
	listpackEnd          = 0xff
	listpackCountUnknown = 65535
)

// listpackable: fields fit a listpack as HSET would make one. An int64
// always does: 20 bytes at most in decimal.
func listpackable(fields []any) bool {
	if len(fields)/2 > listpackMaxPairs {
		return false
	}
	for _, f := range fields {
		n := 0
		switch v := f.(type) {
		case string:
			n = len(v)
		case []byte:
			n = len(v)
		case int64:
		default:
			n = len(fmt.Sprint(v))
		}
		if n > listpackMaxValue {
			return false
		}
	}
	return true
}

// canonicalInt is s as an integer when s is one as Redis writes it (and
// strconv.FormatInt does): an optional '-', then decimal digits without
// a leading zero ("0" itself aside, "-0" not), within int64. It
// allocates nothing, unlike strconv.ParseInt's error for the strings
// that are not.
func canonicalInt[T string | []byte](s T) (int64, bool) {
	n := len(s)
	if n == 0 || n > 20 {
		return 0, false
	}
	i := 0
	neg := s[0] == '-'
	if neg {
		if n == 1 {
			return 0, false
		}
		i = 1
	}
	if s[i] == '0' {
		return 0, n == 1
	}
	var u uint64
	for ; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true // -(1<<63) wraps to math.MinInt64, as it should
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// appendListpackEntry appends s as a listpack entry: an integer, in the
// smallest encoding that holds it, when s is one as Redis writes it (so
// that the listpack is the one HSET would build), else a string.
func appendListpackEntry[T string | []byte](b []byte, s T) []byte {
	if n, ok := canonicalInt(s); ok {
		return appendListpackInt(b, n)
	}
	start := len(b)
	switch l := len(s); {
	case l < 64:
		b = append(b, 0x80|byte(l))
	case l < 4096:
		b = append(b, 0xe0|byte(l>>8), byte(l))
	default:
		b = binary.LittleEndian.AppendUint32(append(b, 0xf0), uint32(l))
	}
	b = append(b, s...)
	return appendListpackBackLen(b, start)
}

// appendListpackInt appends n as a listpack integer entry, in the
// smallest encoding that holds it.
func appendListpackInt(b []byte, n int64) []byte {
	start := len(b)
	switch {
	case n >= 0 && n <= 127:
		b = append(b, byte(n))
	case n >= -4096 && n <= 4095:
		u := uint16(n) & 0x1fff
		b = append(b, 0xc0|byte(u>>8), byte(u))
	case n >= -1<<15 && n < 1<<15:
		b = binary.LittleEndian.AppendUint16(append(b, 0xf1), uint16(n))
	case n >= -1<<23 && n < 1<<23:
		u := uint32(n)
		b = append(b, 0xf2, byte(u), byte(u>>8), byte(u>>16))
	case n >= -1<<31 && n < 1<<31:
		b = binary.LittleEndian.AppendUint32(append(b, 0xf3), uint32(n))
	default:
		b = binary.LittleEndian.AppendUint64(append(b, 0xf4), uint64(n))
	}
	return appendListpackBackLen(b, start)
}

// appendListpackBackLen appends the back-length of the entry that starts
// at b[start:] (for reverse walks): the entry's size in 7-bit groups,
// most significant first, every group but the first with its high bit
// set.
func appendListpackBackLen(b []byte, start int) []byte {
	l := uint64(len(b) - start)
	k := 1
	for v := l >> 7; v > 0; v >>= 7 {
		k++
	}
	for i := k - 1; i >= 0; i-- {
		g := byte(l>>(7*uint(i))) & 0x7f
		if i < k-1 {
			g |= 0x80
		}
		b = append(b, g)
	}
	return b
}

// dumpListpack is the RESTORE payload of a hash holding fields, as a
// listpack (see listpackable; the caller checks). It is built in one
// buffer, sized from the fields: the listpack goes after room for the
// type and a 2-byte length, and its length is written in front once
// known.
func dumpListpack(fields []any) []byte {
	const pre = 3 // the type, and the length as 2 bytes at most (< 16384)
	n := pre + listpackHeaderSize + 1 + 2 + 8
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			n += len(v) + 3 // 2-byte string header at most, 1-byte back-length
		case []byte:
			n += len(v) + 3
		case int64:
			n += 10
		default:
			n += 3 + listpackMaxValue
		}
	}
	b := make([]byte, pre+listpackHeaderSize, n)
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			b = appendListpackEntry(b, v)
		case []byte:
			b = appendListpackEntry(b, v)
		case int64:
			b = appendListpackInt(b, v)
		default: // as go-redis would send it
			b = appendListpackEntry(b, fmt.Sprint(v))
		}
	}
	return finishListpack(b, len(fields))
}

// finishListpack completes a payload whose listpack entries, count of
// them, were appended to b after 3 bytes of room and the listpack's
// header (as dumpListpack lays it out): the end mark, the header, the
// RDB type and length in front, the version and the checksum.
func finishListpack(b []byte, entries int) []byte {
	const pre = 3
	b = append(b, listpackEnd)
	lp := b[pre:]
	binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
	count := uint16(listpackCountUnknown)
	if entries < listpackCountUnknown {
		count = uint16(entries)
	}
	binary.LittleEndian.PutUint16(lp[4:], count)
	var hdr [10]byte
	h := appendRDBLen(append(hdr[:0], rdbTypeHashListpack), len(lp))
	if len(h) <= pre {
		b = b[pre-len(h):]
		copy(b, h)
	} else {
		b = append(append(make([]byte, 0, len(h)+len(lp)+2+8), h...), lp...)
	}
	b = binary.LittleEndian.AppendUint16(b, dumpListpackVersion)
	return binary.LittleEndian.AppendUint64(b, redisCRC64(b))
}

// dumpRecord is dumpListpack(recordArgs(m, dl, values)), the fields in
// the same order, built from the record itself rather than from the
// boxed []any (most of what a new session allocated); ok is false, and
// the payload nil, when the record does not fit a listpack
// (listpackable). TestDumpRecord holds it to dumpListpack, and
// TestCreateRestoresAsHSet to the HSET path.
func dumpRecord(m *store.Meta, dl int64, values map[string][]byte) (payload []byte, ok bool) {
	var md string
	if len(m.Metadata) > 0 {
		md = encodeMetadata(m.Metadata)
	}
	idle := idleMillis(m.Idle)
	// The optional string fields, as appendMetaArgs writes them: each
	// only when set.
	opt := [...]struct{ name, val string }{
		{fieldRemembered, ""}, {fieldLabel, m.Label}, {fieldMetadata, md}, {fieldBinding, m.Binding},
	}
	if m.Remembered {
		opt[0].val = "1"
	}
	pairs := 8 + len(values)
	n := 3 + listpackHeaderSize + 1 + 2 + 8 + 8*10 // 8 fields' names, and ints, at most
	for _, s := range [...]string{m.UserID, m.UserAgent, m.IP} {
		if len(s) > listpackMaxValue {
			return nil, false
		}
		n += len(s) + 3
	}
	if idle > 0 {
		pairs++
		n += 20
	}
	for _, o := range opt {
		if o.val == "" {
			continue
		}
		if len(o.val) > listpackMaxValue {
			return nil, false
		}
		pairs++
		n += 10 + len(o.val) + 3
	}
	if pairs > listpackMaxPairs {
		return nil, false
	}
	for k, v := range values {
		if len(valuePrefix)+len(k) > listpackMaxValue || len(v) > listpackMaxValue {
			return nil, false
		}
		n += len(valuePrefix) + len(k) + 3 + len(v) + 3
	}
	b := make([]byte, 3+listpackHeaderSize, n)
	b = appendListpackEntry(b, fieldUser)
	b = appendListpackEntry(b, m.UserID)
	b = appendListpackEntry(b, fieldCreated)
	b = appendListpackInt(b, millis(m.CreatedAt))
	b = appendListpackEntry(b, fieldIssued)
	b = appendListpackInt(b, millis(m.IssuedAt))
	b = appendListpackEntry(b, fieldExpires)
	b = appendListpackInt(b, millis(m.ExpiresAt))
	b = appendListpackEntry(b, fieldUserAgent)
	b = appendListpackEntry(b, m.UserAgent)
	b = appendListpackEntry(b, fieldIP)
	b = appendListpackEntry(b, m.IP)
	if idle > 0 {
		b = appendListpackEntry(b, fieldIdle)
		b = appendListpackInt(b, idle)
	}
	for _, o := range opt {
		if o.val != "" {
			b = appendListpackEntry(b, o.name)
			b = appendListpackEntry(b, o.val)
		}
	}
	b = appendListpackEntry(b, fieldLastSeen)
	b = appendListpackInt(b, millis(m.LastSeen))
	b = appendListpackEntry(b, fieldDeadline)
	b = appendListpackInt(b, dl)
	for k, v := range values {
		b = appendListpackName(b, k)
		b = appendListpackEntry(b, v)
	}
	return finishListpack(b, 2*pairs), true
}

// appendListpackName appends the field name valuePrefix+k as a listpack
// string entry (never an integer: it starts with a letter), without
// building the name.
func appendListpackName(b []byte, k string) []byte {
	start := len(b)
	// At most listpackMaxValue bytes (the caller checks): a 6-bit length.
	b = append(b, 0x80|byte(len(valuePrefix)+len(k)))
	b = append(append(b, valuePrefix...), k...)
	return appendListpackBackLen(b, start)
}
