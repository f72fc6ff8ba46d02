//go:build race

package memstore_test

// The race detector's instrumentation changes allocation counts.
const raceEnabled = true
