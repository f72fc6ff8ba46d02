package redistest

import "syscall"

// sysProcAttr asks Linux to kill the server if the test binary dies without
// running its cleanups (a panic, a -timeout), so no redis-server outlives it.
// Go's caveat applies: the signal fires when the OS thread that started the
// process exits, which the Go runtime does only for goroutines that exit
// while locked to their thread; nothing here does that.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
