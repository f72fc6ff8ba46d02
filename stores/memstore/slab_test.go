package memstore

import "testing"

// locate names every slot of the chunks slotsBefore counts exactly once,
// in order.
func TestLocate(t *testing.T) {
	next := slot(1)
	for c := range 40 {
		if got := slotsBefore(c); got != int(next)-1 {
			t.Fatalf("slotsBefore(%d) = %d, want %d", c, got, next-1)
		}
		for j := range chunkLen(c) {
			if gc, gj := locate(next); gc != c || gj != j {
				t.Fatalf("locate(%d) = %d, %d, want %d, %d", next, gc, gj, c, j)
			}
			next++
		}
	}
}
