package bench

import (
	"strconv"
	"sync/atomic"
	"testing"
)

// scenario is one of the four request patterns every subject runs.
type scenario struct {
	name string
	run  func(b *testing.B, s *subject, floor bool, m *meter)
}

var scenarios = []scenario{
	{"NewSession", benchNewSession},
	{"ReadOnly", benchReadOnly},
	{"ReadWrite", benchReadWrite},
	{"ReadOnlyParallel", benchReadOnlyParallel},
}

// meter measures something besides time around the timed loop (Redis
// commands); nil measures nothing.
type meter struct {
	start func(b *testing.B)
	stop  func(b *testing.B, n int)
}

func (m *meter) begin(b *testing.B) {
	if m != nil {
		m.start(b)
	}
	b.ReportAllocs()
	b.ResetTimer()
}

func (m *meter) end(b *testing.B) {
	b.StopTimer()
	if m != nil {
		m.stop(b, b.N)
	}
}

// newSession makes a session through the subject's /set route and returns
// its cookie, checking that the library really set one, that it names a
// stored session, and that the value reads back through /get.
func newSession(b testing.TB, s *subject) string {
	b.Helper()
	res := s.do(routeSet, "")
	if res.code != 200 || res.body != setBody {
		b.Fatalf("POST /set: %d %q", res.code, res.body)
	}
	c := res.cookie(s.cookie)
	if c == nil || c.Value == "" {
		b.Fatalf("POST /set set no %q cookie (got %d cookies)", s.cookie, len(res.cookies))
	}
	h := cookieHeader(c)
	checkRead(b, s, h)
	return h
}

// checkRead checks that /get with the cookie answers the stored value.
func checkRead(b testing.TB, s *subject, cookie string) {
	b.Helper()
	res := s.do(routeGet, cookie)
	if res.code != 200 || res.body != valueWant {
		b.Fatalf("GET /get with the session cookie: %d %q, want 200 %q", res.code, res.body, valueWant)
	}
}

// counter makes a session through /incr and returns its cookie and count.
func counter(b testing.TB, s *subject) (string, int) {
	b.Helper()
	res := s.do(routeIncr, "")
	if res.code != 200 {
		b.Fatalf("POST /incr: %d %q", res.code, res.body)
	}
	c := res.cookie(s.cookie)
	if c == nil || c.Value == "" {
		b.Fatalf("POST /incr set no %q cookie", s.cookie)
	}
	return cookieHeader(c), atoi(b, res.body)
}

// incr sends one /incr with cookie and returns the count it answers.
func incr(b testing.TB, s *subject, cookie string) int {
	b.Helper()
	res := s.do(routeIncr, cookie)
	if res.code != 200 {
		b.Fatalf("POST /incr: %d %q", res.code, res.body)
	}
	return atoi(b, res.body)
}

func atoi(b testing.TB, s string) int {
	b.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		b.Fatalf("counter answer %q: %v", s, err)
	}
	return n
}

// bad fails b when any timed request answered something else than 200.
// timed runs r b.N times between the meter's readings and fails the
// benchmark if any run did not answer 200.
func timed(b *testing.B, r runner, m *meter) {
	var failed int64
	m.begin(b)
	for i := 0; i < b.N; i++ {
		r.run()
		if !r.ok() {
			failed++
		}
	}
	m.end(b)
	bad(b, failed)
}

func bad(b *testing.B, n int64) {
	b.Helper()
	if n != 0 {
		b.Fatalf("%d of %d timed requests did not answer 200", n, b.N)
	}
}

func benchNewSession(b *testing.B, s *subject, floor bool, m *meter) {
	if !floor {
		newSession(b, s) // before: /set creates a readable session
	}
	r := s.runner(routeSet, "")
	timed(b, r, m)
	res := r.response()
	if res.body != setBody {
		b.Fatalf("last POST /set answered %q", res.body)
	}
	if !floor {
		// The last timed response carried a cookie naming a stored
		// session: the loop created sessions, not errors.
		c := res.cookie(s.cookie)
		if c == nil {
			b.Fatalf("last timed POST /set set no %q cookie", s.cookie)
		}
		checkRead(b, s, cookieHeader(c))
	}
}

func benchReadOnly(b *testing.B, s *subject, floor bool, m *meter) {
	cookie := "session=none"
	if !floor {
		cookie = newSession(b, s)
	}
	r := s.runner(routeGet, cookie)
	r.run()
	if res := r.response(); res.code != 200 || res.body != valueWant {
		b.Fatalf("GET /get: %d %q", res.code, res.body)
	}
	timed(b, r, m)
	if res := r.response(); res.body != valueWant {
		b.Fatalf("last GET /get answered %q", res.body)
	}
}

func benchReadWrite(b *testing.B, s *subject, floor bool, m *meter) {
	if floor {
		r := s.runner(routeIncr, "session=none")
		timed(b, r, m)
		return
	}
	cookie, first := counter(b, s)
	if n := incr(b, s, cookie); n != first+1 {
		b.Fatalf("counter went from %d to %d, want +1", first, n)
	}
	if s.clientSide {
		benchReadWriteClientSide(b, s, cookie, first, m)
		return
	}
	r := s.runner(routeIncr, cookie)
	timed(b, r, m)
	// Every timed request incremented the stored counter exactly once.
	if n, want := incr(b, s, cookie), first+1+b.N+1; n != want {
		b.Fatalf("after %d timed increments the counter is %d, want %d", b.N, n, want)
	}
}

// benchReadWriteClientSide is ReadWrite for a cookie store: the state is
// the cookie, so every timed request, sending the same cookie, must answer
// the same incremented count and send the cookie that carries it.
func benchReadWriteClientSide(b *testing.B, s *subject, cookie string, first int, m *meter) {
	r := s.runner(routeIncr, cookie)
	timed(b, r, m)
	res := r.response()
	c := res.cookie(s.cookie)
	if atoi(b, res.body) != first+1 || c == nil {
		b.Fatalf("last timed POST /incr: %q, cookie %v; want %d and a cookie", res.body, c, first+1)
	}
	if n := incr(b, s, cookieHeader(c)); n != first+2 {
		b.Fatalf("the cookie of the last timed POST /incr counts to %d, want %d", n, first+2)
	}
}

func benchReadOnlyParallel(b *testing.B, s *subject, floor bool, m *meter) {
	runners := make([]runner, parallelSessions)
	for i := range runners {
		cookie := "session=none"
		if !floor {
			cookie = newSession(b, s)
		}
		runners[i] = s.runner(routeGet, cookie)
		runners[i].run()
		if res := runners[i].response(); res.code != 200 || res.body != valueWant {
			b.Fatalf("GET /get: %d %q", res.code, res.body)
		}
	}
	var next, failed atomic.Int64
	m.begin(b)
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(1) - 1
		if i >= parallelSessions {
			b.Errorf("more than %d goroutines", parallelSessions)
			return
		}
		r := runners[i]
		var f int64
		for pb.Next() {
			r.run()
			if !r.ok() {
				f++
			}
		}
		failed.Add(f)
	})
	m.end(b)
	bad(b, failed.Load())
	for _, r := range runners[:min(int(next.Load()), parallelSessions)] {
		if res := r.response(); res.body != valueWant {
			b.Fatalf("last parallel GET /get answered %q", res.body)
		}
	}
}

// runSubjects runs every scenario for every factory under b.
func runSubjects(b *testing.B, framework string, factories []factory, floor bool, m func(b *testing.B, s *subject) *meter) {
	runScenarios(b, framework, factories, scenarios, floor, m)
}

// runScenarios runs the scenarios scs for every factory under b.
func runScenarios(b *testing.B, framework string, factories []factory, scs []scenario, floor bool, m func(b *testing.B, s *subject) *meter) {
	for _, f := range factories {
		for _, sc := range scs {
			b.Run(framework+"/"+f.name+"/"+sc.name, func(b *testing.B) {
				s := f.make(b)
				var mt *meter
				if m != nil {
					mt = m(b, s)
				}
				sc.run(b, s, floor, mt)
			})
		}
	}
}
