//go:build !unix

package pgtest

import (
	"errors"
	"syscall"
)

type account struct{}

func serverAccount() (account, error) {
	return account{}, errors.New("the PostgreSQL test servers need a unix system")
}

func (account) own(string) error { return nil }

func sysProcAttr(account) *syscall.SysProcAttr { return nil }
