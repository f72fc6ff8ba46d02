package bench

import (
	"testing"

	"github.com/sessionkit/sessionkit/core"
)

// TestPostgresReadOnlyWritesNothing: a read-only request on pgstore, on
// every framework, commits no writing transaction (the server assigns no
// transaction ID while 100 of them run) and costs one round trip and one
// SELECT. As a control, 10 read-write requests on the same session must
// spend at least 10 IDs, so the check is one that sees writes.
func TestPostgresReadOnlyWritesNothing(t *testing.T) {
	const reads, incrs = 100, 10
	pg := startPostgres(t)
	for _, fw := range []struct {
		name string
		mk   func(*core.Manager) *subject
	}{
		{"nethttp", nethttpSessionkit}, {"gin", ginSessionkit}, {"echo", echoSessionkit},
		{"echov5", echov5Sessionkit}, {"fiber", fiberSessionkit}, {"fiberv3", fiberv3Sessionkit},
	} {
		t.Run(fw.name, func(t *testing.T) {
			m, c := sessionkitPostgres(t, pg)
			s := withPg(fw.mk(m), c)
			cookie := newSession(t, s)
			r := s.runner(routeGet, cookie)

			xid0, rt0, st0, sel0 := pg.nextXID(t), c.roundTrips.Load(), c.stmts.Load(), c.verbs[0].Load()
			for i := 0; i < reads; i++ {
				r.run()
				if res := r.response(); res.code != 200 || res.body != valueWant {
					t.Fatalf("GET /get: %d %q", res.code, res.body)
				}
			}
			if d := pg.nextXID(t) - xid0; d != 0 {
				t.Errorf("%d read-only requests committed %d writing transactions, want 0", reads, d)
			}
			if d := c.roundTrips.Load() - rt0; d != reads {
				t.Errorf("%d read-only requests took %d round trips, want %d", reads, d, reads)
			}
			if d, sel := c.stmts.Load()-st0, c.verbs[0].Load()-sel0; d != reads || sel != reads {
				t.Errorf("%d read-only requests sent %d statements (%d SELECTs), want %d SELECTs", reads, d, sel, reads)
			}

			// The control: writes are seen.
			cookie, _ = counter(t, s)
			xid0 = pg.nextXID(t)
			for i := 0; i < incrs; i++ {
				incr(t, s, cookie)
			}
			if d := pg.nextXID(t) - xid0; d < incrs {
				t.Errorf("%d read-write requests committed %d writing transactions, want at least %d", incrs, d, incrs)
			}
		})
	}
}
