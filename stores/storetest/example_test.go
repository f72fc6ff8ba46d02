package storetest_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// A store proves it keeps the contract by passing the suite: each test
// gets a fresh, empty store of its own, closed when the test ends. Run
// needs the *testing.T that go test makes, so this example is compiled,
// not run; memstore's own conformance test is this function.
func ExampleRun() {
	conformance := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			s := memstore.New(memstore.Options{})
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	}
	// In a _test.go file:
	//
	//	func TestConformance(t *testing.T) { conformance(t) }
	_ = conformance
}
