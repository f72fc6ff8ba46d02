//go:build !linux

package e2e

import "os/exec"

// dieWithTest does nothing here: only Linux has a parent-death signal.
// The test's cleanup still stops the demo.
func dieWithTest(*exec.Cmd) {}
