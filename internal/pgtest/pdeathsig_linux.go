package pgtest

import "syscall"

// sysProcAttr runs a server process as a, with a parent-death signal, so
// that a test binary dying without running its cleanups (a panic, a
// -timeout) leaves no postgres behind. SIGQUIT is PostgreSQL's immediate
// shutdown: the postmaster takes its backends down with it, where SIGKILL
// would orphan them. Linux keeps the setting across the credential
// change, which Go makes before it. Go's caveat applies: the signal fires
// when the OS thread that started the process exits, which the Go runtime
// does only for goroutines that exit while locked to their thread; nothing
// here does that.
func sysProcAttr(a account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: a.cred, Pdeathsig: syscall.SIGQUIT}
}
