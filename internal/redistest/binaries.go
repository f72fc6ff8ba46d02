package redistest

import (
	"os"
	"os/exec"
	"testing"
)

// binary returns the path of the named executable, or skips or fails t when
// it is missing: fails under CI=true, where a skipped Redis suite would be a
// silent pass.
func binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	const banner = "\n" +
		"************************************************************\n" +
		"*  REDIS TESTS NOT RUN: %s not found on PATH (%v).\n" +
		"*  Install it (Debian/Ubuntu: apt-get install redis-server)\n" +
		"*  to run them. Under CI=true this is a failure, not a skip.\n" +
		"************************************************************"
	if os.Getenv("CI") == "true" {
		t.Fatalf(banner, name, err)
	}
	t.Skipf(banner, name, err)
	return ""
}
