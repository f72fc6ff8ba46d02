package sessionfiber_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	"github.com/sessionkit/sessionkit/core"
)

// fasthttp parses every request on a connection into the same buffers:
// the middleware must copy everything it hands the session (the token, and
// at Login the user agent and the forwarded address).
func TestRequestBuffersNotRetained(t *testing.T) {
	adaptertest.RunConnectionReuse(t, func(t *testing.T, m *core.Manager, app adaptertest.App) string {
		return listen(t, suiteApp(m, app))
	})
}
