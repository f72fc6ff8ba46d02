//go:build race

package core

// The race detector's instrumentation changes allocation counts.
const raceEnabled = true
