package core

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Each value is encoded on its own: one tag byte, then the payload. Common
// types have compact binary forms; everything else is JSON, so no type ever
// needs registering (unlike gob). A value decodes into the type it was put
// as, or a compatible one (any integer type into any other that holds it).
const (
	tagString = 's'
	tagBytes  = 'b'
	tagInt    = 'i' // zig-zag varint
	tagUint   = 'u' // varint
	tagFloat  = 'f' // IEEE 754 bits, 8 bytes
	tagBool   = 't' // one byte
	tagTime   = 'T' // time.Time.MarshalBinary
	tagJSON   = 'j'
)

func encodeValue(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		b := make([]byte, 1+len(x))
		b[0] = tagString
		copy(b[1:], x)
		return b, nil
	case []byte:
		b := make([]byte, 1+len(x))
		b[0] = tagBytes
		copy(b[1:], x)
		return b, nil
	case int:
		return encodeInt(int64(x)), nil
	case int8:
		return encodeInt(int64(x)), nil
	case int16:
		return encodeInt(int64(x)), nil
	case int32:
		return encodeInt(int64(x)), nil
	case int64:
		return encodeInt(x), nil
	case time.Duration:
		return encodeInt(int64(x)), nil
	case uint:
		return encodeUint(uint64(x)), nil
	case uint8:
		return encodeUint(uint64(x)), nil
	case uint16:
		return encodeUint(uint64(x)), nil
	case uint32:
		return encodeUint(uint64(x)), nil
	case uint64:
		return encodeUint(x), nil
	case float64:
		return encodeFloat(x), nil
	case float32:
		return encodeFloat(float64(x)), nil
	case bool:
		if x {
			return []byte{tagBool, 1}, nil
		}
		return []byte{tagBool, 0}, nil
	case time.Time:
		p, err := x.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrEncode, err)
		}
		return append([]byte{tagTime}, p...), nil
	}
	p, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %w", ErrEncode, v, err)
	}
	return append([]byte{tagJSON}, p...), nil
}

func encodeInt(n int64) []byte {
	b := make([]byte, 1, 1+binary.MaxVarintLen64)
	b[0] = tagInt
	return binary.AppendVarint(b, n)
}

func encodeUint(n uint64) []byte {
	b := make([]byte, 1, 1+binary.MaxVarintLen64)
	b[0] = tagUint
	return binary.AppendUvarint(b, n)
}

func encodeFloat(f float64) []byte {
	b := make([]byte, 9)
	b[0] = tagFloat
	binary.BigEndian.PutUint64(b[1:], math.Float64bits(f))
	return b
}

// decodeValue decodes b into a T. It never panics on corrupt input.
func decodeValue[T any](b []byte) (T, error) {
	var out T
	if len(b) == 0 {
		return out, fmt.Errorf("%w: empty value", ErrDecode)
	}
	tag, p := b[0], b[1:]
	if tag == tagJSON {
		return decodeJSON[T](p)
	}
	var err error
	switch dst := any(&out).(type) {
	case *string:
		err = want(tag, tagString)
		*dst = string(p)
	case *[]byte:
		err = want(tag, tagBytes)
		*dst = append([]byte(nil), p...)
	case *int:
		*dst, err = decodeSigned[int](tag, p, math.MinInt, math.MaxInt)
	case *int8:
		*dst, err = decodeSigned[int8](tag, p, math.MinInt8, math.MaxInt8)
	case *int16:
		*dst, err = decodeSigned[int16](tag, p, math.MinInt16, math.MaxInt16)
	case *int32:
		*dst, err = decodeSigned[int32](tag, p, math.MinInt32, math.MaxInt32)
	case *int64:
		*dst, err = decodeSigned[int64](tag, p, math.MinInt64, math.MaxInt64)
	case *time.Duration:
		*dst, err = decodeSigned[time.Duration](tag, p, math.MinInt64, math.MaxInt64)
	case *uint:
		*dst, err = decodeUnsigned[uint](tag, p, math.MaxUint)
	case *uint8:
		*dst, err = decodeUnsigned[uint8](tag, p, math.MaxUint8)
	case *uint16:
		*dst, err = decodeUnsigned[uint16](tag, p, math.MaxUint16)
	case *uint32:
		*dst, err = decodeUnsigned[uint32](tag, p, math.MaxUint32)
	case *uint64:
		*dst, err = decodeUnsigned[uint64](tag, p, math.MaxUint64)
	case *float64:
		*dst, err = decodeFloat(tag, p)
	case *float32:
		var f float64
		f, err = decodeFloat(tag, p)
		*dst = float32(f)
	case *bool:
		if err = want(tag, tagBool); err == nil && len(p) != 1 {
			err = fmt.Errorf("%w: bool of %d bytes", ErrDecode, len(p))
		}
		*dst = len(p) == 1 && p[0] == 1
	case *time.Time:
		if err = want(tag, tagTime); err == nil {
			if e := dst.UnmarshalBinary(p); e != nil {
				err = fmt.Errorf("%w: time: %w", ErrDecode, e)
			}
		}
	case *any:
		*dst, err = decodeAny(tag, p)
	default:
		err = fmt.Errorf("%w: %T stored as %q, not JSON", ErrDecode, out, tag)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// decodeJSON is apart from decodeValue so that only this path moves its
// result to the heap (json.Unmarshal takes a pointer): Get of a string or
// an int allocates nothing for the value itself.
func decodeJSON[T any](p []byte) (T, error) {
	// Anything can be JSON: a named string type, a struct, a map.
	out := new(T)
	if err := json.Unmarshal(p, out); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: into %T: %w", ErrDecode, zero, err)
	}
	return *out, nil
}

func want(tag, expected byte) error {
	if tag != expected {
		return fmt.Errorf("%w: stored as %q, want %q", ErrDecode, tag, expected)
	}
	return nil
}

type signed interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64
}

type unsigned interface {
	~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func decodeSigned[T signed](tag byte, p []byte, lo, hi int64) (T, error) {
	var n int64
	switch tag {
	case tagInt:
		v, k := binary.Varint(p)
		if k <= 0 || k != len(p) {
			return 0, fmt.Errorf("%w: corrupt integer", ErrDecode)
		}
		n = v
	case tagUint:
		v, k := binary.Uvarint(p)
		if k <= 0 || k != len(p) || v > math.MaxInt64 {
			return 0, fmt.Errorf("%w: corrupt or out-of-range integer", ErrDecode)
		}
		n = int64(v)
	default:
		return 0, fmt.Errorf("%w: stored as %q, want an integer", ErrDecode, tag)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%w: %d overflows the requested type", ErrDecode, n)
	}
	return T(n), nil
}

func decodeUnsigned[T unsigned](tag byte, p []byte, hi uint64) (T, error) {
	var n uint64
	switch tag {
	case tagUint:
		v, k := binary.Uvarint(p)
		if k <= 0 || k != len(p) {
			return 0, fmt.Errorf("%w: corrupt integer", ErrDecode)
		}
		n = v
	case tagInt:
		v, k := binary.Varint(p)
		if k <= 0 || k != len(p) || v < 0 {
			return 0, fmt.Errorf("%w: corrupt or negative integer", ErrDecode)
		}
		n = uint64(v)
	default:
		return 0, fmt.Errorf("%w: stored as %q, want an integer", ErrDecode, tag)
	}
	if n > hi {
		return 0, fmt.Errorf("%w: %d overflows the requested type", ErrDecode, n)
	}
	return T(n), nil
}

func decodeFloat(tag byte, p []byte) (float64, error) {
	if err := want(tag, tagFloat); err != nil {
		return 0, err
	}
	if len(p) != 8 {
		return 0, fmt.Errorf("%w: float of %d bytes", ErrDecode, len(p))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(p)), nil
}

// decodeAny gives a value its natural Go type: integers as int64 (uint64
// when they do not fit), JSON as encoding/json decodes into any.
func decodeAny(tag byte, p []byte) (any, error) {
	switch tag {
	case tagString:
		return string(p), nil
	case tagBytes:
		return append([]byte(nil), p...), nil
	case tagInt:
		return decodeSigned[int64](tag, p, math.MinInt64, math.MaxInt64)
	case tagUint:
		return decodeUnsigned[uint64](tag, p, math.MaxUint64)
	case tagFloat:
		return decodeFloat(tag, p)
	case tagBool:
		if len(p) != 1 {
			return nil, fmt.Errorf("%w: bool of %d bytes", ErrDecode, len(p))
		}
		return p[0] == 1, nil
	case tagTime:
		var t time.Time
		if err := t.UnmarshalBinary(p); err != nil {
			return nil, fmt.Errorf("%w: time: %w", ErrDecode, err)
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: unknown tag %q", ErrDecode, tag)
}
