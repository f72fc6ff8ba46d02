package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// searchDirs are where the binaries are looked for when they are not on
// PATH, as Debian installs them (it puts only client programs on PATH).
// Version 15 first, then any other, newest first. A variable so that a
// test can take them away.
var searchDirs = func() []string {
	dirs := []string{"/usr/lib/postgresql/15/bin"}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	return append(dirs, found...)
}

// version is the major version in a /usr/lib/postgresql/<v>/bin path.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// binaries are the server programs, from one installation.
type binaries struct {
	initdb, postgres string
	dir              string // where postgres really is, for the tools beside it
}

// findBinaries returns initdb and postgres: from PATH when both are there,
// else from the first of searchDirs holding both.
func findBinaries() (binaries, error) {
	initdb, err1 := exec.LookPath("initdb")
	postgres, err2 := exec.LookPath("postgres")
	if err1 == nil && err2 == nil {
		return newBinaries(initdb, postgres), nil
	}
	for _, dir := range searchDirs() {
		i, p := filepath.Join(dir, "initdb"), filepath.Join(dir, "postgres")
		if executable(i) && executable(p) {
			return newBinaries(i, p), nil
		}
	}
	return binaries{}, fmt.Errorf("initdb and postgres are not on PATH nor in /usr/lib/postgresql/*/bin: %w",
		errors.Join(err1, err2))
}

func newBinaries(initdb, postgres string) binaries {
	dir := filepath.Dir(postgres)
	if real, err := filepath.EvalSymlinks(postgres); err == nil {
		dir = filepath.Dir(real)
	}
	return binaries{initdb: initdb, postgres: postgres, dir: dir}
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// prerequisites returns the binaries and the account to run them as, or
// skips or fails t when either is missing: fails under CI=true, where a
// skipped PostgreSQL suite would be a silent pass.
func prerequisites(t testing.TB) (binaries, account) {
	t.Helper()
	bins, err := findBinaries()
	var acct account
	if err == nil {
		acct, err = serverAccount()
	}
	if err == nil {
		return bins, acct
	}
	const banner = "\n" +
		"************************************************************\n" +
		"*  POSTGRESQL TESTS NOT RUN: %v.\n" +
		"*  Install PostgreSQL (Debian/Ubuntu: apt-get install\n" +
		"*  postgresql) to run them. Under CI=true this is a failure,\n" +
		"*  not a skip.\n" +
		"************************************************************"
	if os.Getenv("CI") == "true" {
		t.Fatalf(banner, err)
	}
	t.Skipf(banner, err)
	return binaries{}, account{}
}
