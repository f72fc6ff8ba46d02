//go:build unix

package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// serverUser is the account the servers run as when the tests run as
// root: initdb and postgres refuse root. Debian's postgresql package
// creates it.
const serverUser = "postgres"

// account is who the server processes run as: the postgres user when the
// tests run as root, else the tests' own user (cred nil).
type account struct {
	uid, gid int
	cred     *syscall.Credential
}

// serverAccount finds the account the servers must run as.
func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return account{}, fmt.Errorf("running as root, and initdb refuses root: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return account{}, fmt.Errorf("user %s has uid %q, gid %q", serverUser, u.Uid, u.Gid)
	}
	return account{uid: uid, gid: gid, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

// own hands path to the account, so the server can write there.
func (a account) own(path string) error {
	if a.cred == nil {
		return nil
	}
	return os.Chown(path, a.uid, a.gid)
}
