package redistest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// replicationArgs are given to every server that is or may become a
// master with replicas: a replica's first sync starts at once, instead of
// after the 5 s Redis waits by default for more replicas to join a
// diskless sync.
var replicationArgs = []string{"--repl-diskless-sync-delay", "0"}

// ReplicationTimeout bounds how long WaitReplicated waits by default for a
// replica to catch up: generous, as it is a few milliseconds on loopback.
const ReplicationTimeout = 10 * time.Second

// Role is what INFO replication reports as the server's role: "master" or
// "slave" (a replica), or an error when the server does not answer.
func (s *Server) Role() (string, error) {
	info, err := command(s.Addr(), pingTimeout, "INFO", "replication")
	if err != nil {
		return "", err
	}
	return infoField(info, "role"), nil
}

// ReplicationOffset is the server's replication offset: for a master, how
// far its replication stream has gone (master_repl_offset, which counts
// every write it has executed, hence acknowledged); for a replica, how far
// it has received and applied it (slave_repl_offset).
func (s *Server) ReplicationOffset() (int64, error) {
	info, err := command(s.Addr(), pingTimeout, "INFO", "replication")
	if err != nil {
		return 0, err
	}
	field := "master_repl_offset"
	if infoField(info, "role") == "slave" {
		if st := infoField(info, "master_link_status"); st != "up" {
			return 0, fmt.Errorf("redistest: replica %s: master link %s", s.Addr(), st)
		}
		field = "slave_repl_offset"
	}
	n, err := strconv.ParseInt(infoField(info, field), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redistest: %s: %s: %w", s.Addr(), field, err)
	}
	return n, nil
}

// waitReplicated samples the master's offset and waits until every replica
// has applied that far: every write the master acknowledged before the
// call is then on every replica.
func waitReplicated(master *Server, replicas []*Server, timeout time.Duration) error {
	want, err := master.ReplicationOffset()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for _, r := range replicas {
		for {
			got, err := r.ReplicationOffset()
			if err == nil && got >= want {
				break
			}
			if err == nil {
				err = fmt.Errorf("at offset %d of %d", got, want)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("redistest: replica %s of %s not caught up after %v: %w", r.Addr(), master.Addr(), timeout, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// emptyConf creates an empty configuration file in dir and returns its
// path. A data server that Sentinel may promote needs one: Sentinel sends
// CONFIG REWRITE with the promotion, which fails on a server started
// without a file.
func emptyConf(dir string) (string, error) {
	path := filepath.Join(dir, "redis.conf")
	return path, os.WriteFile(path, nil, 0o644)
}

// stopAll stops servers, the first ones first, and joins their errors.
func stopAll(servers ...[]*Server) error {
	var errs []error
	for _, list := range servers {
		for _, s := range list {
			errs = append(errs, s.Stop())
		}
	}
	return errors.Join(errs...)
}
