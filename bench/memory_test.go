package bench

import "testing"

// BenchmarkMemory runs the four scenarios for sessionkit and the peers on
// each framework, every library on its in-memory store.
func BenchmarkMemory(b *testing.B) {
	runSubjects(b, "nethttp", nethttpMemory, false, nil)
	runSubjects(b, "gin", ginMemory, false, nil)
	runSubjects(b, "echo", echoMemory, false, nil)
	runSubjects(b, "echov5", echov5Memory, false, nil)
	runSubjects(b, "fiber", fiberMemory, false, nil)
	runSubjects(b, "fiberv3", fiberv3Memory, false, nil)
}

// BenchmarkFloor runs the same routes and scenarios on each framework with
// no session middleware: the cost of the framework and the harness.
func BenchmarkFloor(b *testing.B) {
	none := func(f func(*testing.B) *subject) []factory { return []factory{{"none", f}} }
	runSubjects(b, "nethttp", none(nethttpFloor), true, nil)
	runSubjects(b, "gin", none(ginFloor), true, nil)
	runSubjects(b, "echo", none(echoFloor), true, nil)
	runSubjects(b, "echov5", none(echov5Floor), true, nil)
	runSubjects(b, "fiber", none(fiberFloor), true, nil)
	runSubjects(b, "fiberv3", none(fiberv3Floor), true, nil)
}
