package core

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestKeyTable: an interned key is a copy, the same one for every Put of
// that key; the table stays bounded whatever keys come, and a key it
// cannot hold is still copied.
func TestKeyTable(t *testing.T) {
	kt := newKeyTable()
	buf := []byte("counter")
	first := kt.intern(unsafe.String(&buf[0], len(buf)))
	assert.NotSame(t, &buf[0], unsafe.StringData(first), "the key is copied")
	copy(buf, "XXXXXXX") // the framework reuses its buffer
	assert.Equal(t, "counter", first)
	second := kt.intern("counter")
	assert.Same(t, unsafe.StringData(first), unsafe.StringData(second), "a known key is shared")
	if !raceEnabled {
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = kt.intern("counter") }))
	}

	long := strings.Repeat("k", maxKeyIntern+1)
	assert.Equal(t, long, kt.intern(long))
	assert.NotSame(t, unsafe.StringData(long), unsafe.StringData(kt.intern(long)), "a long key is copied")

	for i := range 10 * keySlots {
		k := "key" + strconv.Itoa(i)
		got := kt.intern(k)
		assert.Equal(t, k, got)
	}
	n := 0
	for i := range kt.slots {
		if kt.slots[i].Load() != nil {
			n++
		}
	}
	assert.LessOrEqual(t, n, keySlots)
	assert.Same(t, unsafe.StringData(first), unsafe.StringData(kt.intern("counter")), "a taken slot is never replaced")
	assert.Equal(t, "", kt.intern(""))
}
