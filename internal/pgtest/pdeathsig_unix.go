//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs a server process as a. Outside Linux there is no
// parent-death signal; the servers are still stopped by the tests'
// cleanups.
func sysProcAttr(a account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: a.cred}
}
