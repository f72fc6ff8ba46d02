package sessionhttp

import (
	"net/http"

	"github.com/sessionkit/sessionkit/adapterkit"
)

// writer commits the session at the last moment it can still set headers
// (adapterkit.Writer) and answers a failed commit with the ErrorHandler.
type writer struct {
	adapterkit.Writer
	r       *http.Request
	onError ErrorHandler
}

// SessionError answers a failed commit through the server's own writer:
// ours drops what the handler writes from then on.
func (w *writer) SessionError(err error) { w.onError(w.ResponseWriter, w.r, err) }
