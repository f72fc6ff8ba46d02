// Package redistest starts real redis-server processes for tests: a
// standalone server, a three-master Redis Cluster (with or without a
// replica of each master) and a Sentinel-monitored master with a replica,
// on free loopback ports
// (127.0.0.1 only), each in a temporary directory of its own (the test's
// t.TempDir(); for the shared ones, one removed when the binary ends) with
// persistence off (--save "" --appendonly no) unless asked for
// (StandaloneDurable), stopped by pid when the test (or, for the shared
// ones, the test binary) ends.
//
// It never connects to a Redis it did not start: every address it hands out
// belongs to a process it launched, so a test may flush or break it freely.
// A developer's own server (on 6379, say) is never touched.
//
// # Dedicated or shared
//
// Standalone and NewCluster give a test its own processes, which it may stop
// and start again on the same port (fault tests). StandaloneDurable and
// NewClusterDurable give servers whose acknowledged writes survive that,
// even a SIGKILL: they append every write to a file and fsync it before
// replying.
// SharedStandalone and SharedCluster hand every test of the binary the same
// processes, started on first use and stopped by Main when the binary's
// tests are done; tests that share one keep apart by a key prefix of their
// own (Prefix). Starting a cluster takes a couple of seconds, so the
// conformance suite shares one.
//
// # Failover
//
// NewSentinel starts a master, a replica of it (replicaof) and three
// sentinels (redis-server <conf> --sentinel, each with a configuration
// file of its own in its own directory, since sentinels rewrite theirs),
// and waits until every sentinel knows the master, the replica and the
// other two. A Sentinel client takes Addrs (the sentinels) and MasterName.
// KillMaster (SIGKILL) or StopMaster (SIGTERM) takes the current master
// down; WaitFailover waits until every sentinel names another master
// (SENTINEL get-master-addr-by-name) and that server reports role:master.
// With down-after-milliseconds 1000 and failover-timeout 5000 a promotion
// takes some 2–3 s.
//
// NewClusterWithReplicas starts three masters and a replica of each
// (redis-cli --cluster create --cluster-replicas 1), with
// cluster-node-timeout 1500 and cluster-replica-validity-factor 0, and
// waits until every node knows every replica and every replica has synced.
// Masters and ReplicaOf tell the topology; after a master is killed
// (Node(i).Kill, or Kill on a server Masters returned), WaitPromoted waits
// until its replica reports role:master and every running node reports
// the cluster ok with all slots served and lists the replica as a master.
// A promotion takes some 3–4 s.
//
// Replication is asynchronous: a write the master acknowledged may be lost
// with it. WaitReplicated (on a Sentinel or a Cluster) samples each
// master's replication offset and waits until its replica has applied that
// far: every write acknowledged before the call then survives a failover.
//
// These setups are the test's own (stopped, by pid, when it ends, whether
// it passed or not, and by a setup that fails half-way): a failover
// changes who is master, so no test could share one.
//
// # Without redis-server
//
// When redis-server (or, for a cluster, redis-cli) is not on PATH, the
// calling test is skipped with a loud message, except when the environment
// variable CI is "true": then it fails, so that a CI run can never pass by
// skipping the Redis suites.
package redistest
