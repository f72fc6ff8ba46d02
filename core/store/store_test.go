package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionkit/sessionkit/core/store"
)

func TestApplyValues(t *testing.T) {
	old := map[string][]byte{"a": []byte("1"), "b": []byte("2")}
	ch := &store.Change{Set: map[string][]byte{"c": []byte("3"), "b": []byte("new")}, Del: []string{"a", "b"}}
	got := ch.ApplyValues(old)
	assert.Equal(t, map[string][]byte{"b": []byte("new"), "c": []byte("3")}, got, "Del before Set: a key both set and deleted ends up set")
	assert.Equal(t, map[string][]byte{"a": []byte("1"), "b": []byte("2")}, old, "the handed-out map is never written")

	cleared := (&store.Change{Clear: true, Set: map[string][]byte{"z": []byte("9")}}).ApplyValues(old)
	assert.Equal(t, map[string][]byte{"z": []byte("9")}, cleared)

	same := (&store.Change{}).ApplyValues(old)
	same["x"] = nil // the same map: nothing to copy when nothing changes
	assert.Contains(t, old, "x")
	var none *store.Change
	assert.Nil(t, none.ApplyValues(nil))
}
