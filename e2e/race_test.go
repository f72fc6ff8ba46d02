//go:build race

package e2e

// raceEnabled: this test runs under the race detector, so the demo it
// starts is built with -race too.
const raceEnabled = true
