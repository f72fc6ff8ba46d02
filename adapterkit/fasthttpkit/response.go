package fasthttpkit

import (
	"bytes"
	"strings"
	"sync"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/core"
)

// Apply puts a commit's Result on fasthttp's response headers: the
// Set-Cookie line, the token header, and the caching headers.
//
// The Set-Cookie line is net/http's rendering of the result's cookie
// (core.Result.AppendSetCookie), not fasthttp's Cookie: fasthttp drops
// Expires whenever Max-Age is set, so it cannot give a persistent cookie
// both (clients that predate Max-Age read Expires), and older versions
// know no Partitioned and render no Max-Age=0. The other headers come
// from core.Result.HeadersWithoutCookie, which keeps the caching rules in
// one place.
func Apply(h *fasthttp.ResponseHeader, res *core.Result) {
	if res.Cookie != nil {
		// Rendered into a pooled buffer: fasthttp copies the value into
		// its own, so the line costs no allocation of ours.
		bp := cookieBufs.Get().(*[]byte)
		v := res.AppendSetCookie((*bp)[:0])
		if len(v) > 0 {
			h.AddBytesV(fasthttp.HeaderSetCookie, v)
		}
		if cap(v) <= maxPooledCookie {
			*bp = v
			cookieBufs.Put(bp)
		}
	}
	res.HeadersWithoutCookie(func(name, value string, replace bool) {
		switch {
		case name == fasthttp.HeaderVary:
			// Merged into the handler's Vary line field by field, never
			// a second line, and never a field it names already:
			// "Cookie, Authorization" whole would repeat a Cookie the
			// handler named.
			for value != "" {
				var field string
				field, value, _ = strings.Cut(value, ",")
				if field = strings.TrimSpace(field); field != "" {
					addVary(h, field)
				}
			}
		case replace:
			h.Set(name, value) // no-store replaces whatever caching the handler chose
		default:
			h.Add(name, value)
		}
	})
}

// cookieBufs holds the buffers Apply renders Set-Cookie lines into, each
// room for a line with sessionkit's default name and attributes, Expires
// and Max-Age included, to begin with; one grown past maxPooledCookie
// (a long domain or path) is left to the garbage collector.
var cookieBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 192)
	return &b
}}

const maxPooledCookie = 1024

var varyKey = []byte(fasthttp.HeaderVary)

// addVary adds field to the Vary line unless it names it already (fields
// compare case-insensitively). The common case, no Vary yet, allocates
// nothing: fasthttp copies the value into its own buffer.
func addVary(h *fasthttp.ResponseHeader, field string) {
	old := h.Peek(fasthttp.HeaderVary)
	if len(old) == 0 {
		// Set would first copy the key and the value into buffers of
		// the header's own, to canonicalise the key: both are canonical
		// already, and SetCanonical copies the value where it keeps it.
		h.SetCanonical(varyKey, unsafe.Slice(unsafe.StringData(field), len(field)))
		return
	}
	for rest := old; len(rest) > 0; {
		var f []byte
		f, rest, _ = bytes.Cut(rest, []byte(","))
		if strings.EqualFold(string(bytes.TrimSpace(f)), field) {
			return
		}
	}
	// A new slice: old points into the header's own buffer, which Set
	// rewrites.
	v := make([]byte, 0, len(old)+2+len(field))
	v = append(append(append(v, old...), ", "...), field...)
	h.SetBytesV(fasthttp.HeaderVary, v)
}

// WriteError writes the default error response: the status for err (503
// for a store failure) and the generic JSON body every sessionkit adapter
// sends, never cached. It replaces whatever body the handler had set.
func WriteError(resp *fasthttp.Response, err error) {
	resp.Header.SetContentType("application/json")
	resp.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	resp.SetStatusCode(adapterkit.ErrorStatus(err))
	resp.SetBodyString(adapterkit.ErrorBody)
}
