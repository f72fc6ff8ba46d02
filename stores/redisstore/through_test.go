package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

func TestParseMarker(t *testing.T) {
	for _, prefix := range []string{"sk:", "{app}:s:", ""} {
		id := strings.Repeat("ab", 32)
		tag := newTag()
		m := markerKey(prefix, prefix+id, tag)
		rest, ok := strings.CutPrefix(m, prefix)
		assert.True(t, ok)
		assert.True(t, isMarker(rest))
		assert.False(t, isMarker(id))
		gotID, gotTag, ok := parseMarker(prefix, rest)
		assert.True(t, ok, "%q", m)
		assert.Equal(t, id, gotID)
		assert.Equal(t, tag, gotTag)
		assert.Equal(t, hashTag(prefix+id), hashTag(m), "the marker %q hashes as its session", m)
		assert.True(t, marksShareSlot(prefix, tag))
		for _, bad := range []string{rest[:len(rest)-1], "x" + rest[1:], rest[:1] + "(" + rest[2:]} {
			_, _, ok := parseMarker(prefix, bad)
			assert.False(t, ok, "%q", bad)
		}
	}
	assert.False(t, marksShareSlot("a{b", newTag()), "a prefix with an unbalanced brace")
}

func TestOwnChanges(t *testing.T) {
	g := &tracking{prefix: "p:", tag: newTag(), passOwn: true, born: time.Now(), cache: nearcache.New(1<<20, time.Second)}
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	mark := func(id, tag string) string { return markerKey("p:", "p:"+id, tag) }
	other := newTag()

	assert.Nil(t, g.ownChanges([]string{"p:" + a, "p:" + b}), "no markers")
	assert.Equal(t, map[string]bool{a: true}, g.ownChanges([]string{"p:" + a, mark(a, g.tag)}))
	assert.Equal(t, map[string]bool{a: false, b: true},
		g.ownChanges([]string{mark(a, g.tag), "p:" + a, mark(a, other), "p:" + b, mark(b, g.tag)}),
		"another store's write folded into this one's")
	assert.Equal(t, map[string]bool{a: false},
		g.ownChanges([]string{mark(a, other), mark(a, g.tag), "p:" + a}), "in either order")

	g.distrust()
	assert.Equal(t, map[string]bool{a: false}, g.ownChanges([]string{"p:" + a, mark(a, g.tag)}),
		"after a failed write, no marker explains anything")
}

func TestOwnChangesWithoutWriteThrough(t *testing.T) {
	g := &tracking{prefix: "p:", tag: newTag(), born: time.Now(), cache: nearcache.New(1<<20, time.Second)}
	a := strings.Repeat("a", 64)
	assert.Nil(t, g.ownChanges([]string{"p:" + a, markerKey("p:", "p:"+a, g.tag)}),
		"a store that does not write through passes nothing over")
}

func TestStoreMarker(t *testing.T) {
	for _, prefix := range []string{"", "sk:", "{app}:s:"} {
		s := &Store{opts: Options{Prefix: prefix}, tag: newTag(), plainTag: newTag()}
		s.marks = marksShareSlot(s.opts.prefix(), s.tag)
		id := strings.Repeat("c", 64)
		assert.Equal(t, markerKey(s.opts.prefix(), s.key(id), s.plainTag), s.marker(id))
		key, m := s.keyAndMarker(id, false)
		assert.Equal(t, s.key(id), key)
		assert.Equal(t, s.marker(id), m)
		key, m = s.keyAndMarker(id, true)
		assert.Equal(t, s.key(id), key)
		assert.Equal(t, markerKey(s.opts.prefix(), s.key(id), s.tag), m, "a write-through's marker")
	}
}
