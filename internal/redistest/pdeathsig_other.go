//go:build !linux

package redistest

import "syscall"

// sysProcAttr: outside Linux there is no parent-death signal; the servers
// are still stopped by the tests' cleanups.
func sysProcAttr() *syscall.SysProcAttr { return nil }
