package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// dieWithTest makes the kernel kill cmd when the test process dies without
// running its cleanups (a go test -timeout panic, a kill), so that no
// demo outlives the test.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// profileProcesses returns the pids of the processes whose command line
// has --user-data-dir=dir, read from /proc: the Chromium on that profile
// and its helpers, to which it passes the flag. A helper rewrites its
// command line as one string, the arguments joined with spaces (as
// setproctitle does), so the flag is looked for as a word of it, not only
// as an argument of its own.
func profileProcesses(dir string) []int {
	want := []byte("--user-data-dir=" + dir)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue // gone already
		}
		if hasWord(cmdline, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// hasWord reports whether cmdline holds word between separators: NUL,
// space, or either end.
func hasWord(cmdline, word []byte) bool {
	for i := 0; ; {
		j := bytes.Index(cmdline[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || isSep(cmdline[start-1])) && (end == len(cmdline) || isSep(cmdline[end])) {
			return true
		}
		i = start + 1
	}
}

func isSep(c byte) bool { return c == 0 || c == ' ' }

// killProcesses kills the processes pids.
func killProcesses(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
