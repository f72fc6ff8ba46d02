//go:build !linux

package e2e

import "os/exec"

// dieWithTest does nothing here: only Linux has a parent-death signal.
// The test's cleanup still stops the demo.
func dieWithTest(*exec.Cmd) {}

// profileProcesses finds nothing here: without /proc the test relies on
// chromedp's wait for the browser process itself.
func profileProcesses(string) []int { return nil }

// killProcesses has nothing to kill here.
func killProcesses([]int) {}
