//go:build race

package fasthttpkit_test

// The race detector's instrumentation changes allocation counts.
const raceEnabled = true
