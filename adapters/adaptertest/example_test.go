package adaptertest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
)

// An adapter's test runs the whole suite with a Factory: the adapter's
// middleware on the suite's manager, in front of a catch-all route that
// fills an Exchange with the framework's own request and response types.
// This one is net/http's; Run needs the *testing.T that go test makes, so
// this example is compiled, not run.
func ExampleRun() {
	factory := func(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
		h := sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			app(&adaptertest.Exchange{
				URL:            r.URL.RequestURI(),
				Session:        sessionhttp.From(r),
				ContextSession: core.FromContext(r.Context()),
				Respond: func(status int, body string) {
					w.WriteHeader(status)
					_, _ = io.WriteString(w, body)
				},
			})
		}))
		return adaptertest.HandlerServer(h)
	}
	// In a _test.go file:
	//
	//	func TestAdapterSuite(t *testing.T) { adaptertest.Run(t, factory) }
	_ = factory
}

// HandlerServer sends each request through a handler in-process and hands
// back the response as a client would see it.
func ExampleHandlerServer() {
	srv := adaptertest.HandlerServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "queued")
	}))
	res, err := srv(httptest.NewRequest("POST", "/jobs", nil))
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, res.Header.Get("X-Path"), string(body))
	// Output: 202 /jobs queued
}
