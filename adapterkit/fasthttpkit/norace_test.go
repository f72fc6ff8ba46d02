//go:build !race

package fasthttpkit_test

const raceEnabled = false
