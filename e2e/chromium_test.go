package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// actionTimeout bounds each browser action; the whole test takes seconds.
const actionTimeout = 15 * time.Second

// startBrowser starts one headless Chromium for the test and returns its
// context; newTab opens isolated tabs in it. Cleanup closes the browser.
//
// The profile is a fresh --user-data-dir of the test's own, a t.TempDir,
// which the testing package removes once Cleanup has closed the browser
// and seen Chromium and its helpers exit (see browser.Close).
func startBrowser(t *testing.T, execPath string) context.Context {
	t.Helper()
	return launchBrowser(t, execPath, t.TempDir(), "Chromium").ctx
}

// startProfileBrowser starts one headless Chromium on the profile
// directory dir (its --user-data-dir), which stays in place when the
// browser closes, so that another Chromium can start on it: a browser
// restart. newProfileTab opens tabs in it. Close closes it; so does
// Cleanup, if the test has not. The caller owns dir: a t.TempDir made
// before the first browser starts, so that the testing package removes
// it after the cleanups of every browser on it.
func startProfileBrowser(t *testing.T, execPath, dir, name string) *browser {
	t.Helper()
	return launchBrowser(t, execPath, dir, name)
}

// browser is one Chromium process.
type browser struct {
	name string
	ctx  context.Context
	// profile is its --user-data-dir.
	profile string
	// tabs close the tabs opened in the browser, before it closes.
	tabs   []context.CancelFunc
	closed bool
	cancel func()
}

// launchBrowser starts Chromium on the profile directory profile, which
// chromedp then leaves alone (it removes only the temporary profiles it
// makes itself). The flags keep Chromium from reaching for the network on
// its own: the test must pass offline, and without waiting on connections
// that cannot succeed.
func launchBrowser(t *testing.T, execPath, profile, name string) *browser {
	t.Helper()
	output := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		// The sandbox needs unprivileged user namespaces, which containers
		// and root (as in CI here) lack; the only pages loaded are the demo's.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.CombinedOutput(output),
	)
	require.NotEmpty(t, profile)
	opts = append(opts, chromedp.UserDataDir(profile))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &browser{name: name, ctx: browserCtx, profile: profile}
	b.cancel = func() {
		cancelBrowser()
		cancelAlloc()
	}
	// Cleanups run last first: the browser closes, then its output is
	// shown if the test failed, whenever the browser closed.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", name, output.String())
		}
	})
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Logf("closing %s: %v", name, err)
		}
	})
	// The first Do starts the browser and binds its life to browserCtx,
	// which has no deadline; each action gets its own (see run).
	require.NoError(t, chromedp.Do(browserCtx), "starting %s", execPath)
	return b
}

// Close closes the browser's tabs, then the browser, gracefully, and waits
// until Chromium and its helpers have exited. Closing a closed browser
// does nothing.
//
// A graceful close is what leaves the browser's state in the profile: the
// cookie store writes to disk in batches, and a Chromium killed a second
// after a login with remember, started again on its profile, no longer
// has the cookie.
// chromedp.Cancel sends Browser.close (CDP), on which Chromium shuts down
// as on its own Quit: it tears the profile down, and the cookie store,
// which lives in the network service (a helper process), commits what it
// holds to the profile's Cookies database, browser-session cookies
// included; then Cancel waits for the browser process to exit. CDP has no
// command that flushes the cookie store by itself, and none is needed:
// Close then waits for every helper of the profile to exit too (see
// waitProfileReleased), after which nothing writes to it any more, and
// checks that Chromium exited cleanly (see cleanExit). A Chromium that
// does not close within actionTimeout is killed, and Close reports the
// unclean exit.
func (b *browser) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	for i := len(b.tabs) - 1; i >= 0; i-- {
		b.tabs[i]()
	}
	// The timeout bounds the wait for a graceful close; past it, the
	// cancellation kills Chromium.
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	// Cancel closes the browser gracefully and waits for it to exit.
	err := chromedp.Cancel(ctx)
	b.cancel()
	return errors.Join(err, waitProfileReleased(b.profile), cleanExit(b.profile))
}

// cleanExit checks that the Chromium that ran on the profile dir exited
// cleanly: it released the profile's lock (the SingletonLock link, which
// a killed Chromium leaves behind) and wrote the profile's preferences
// with profile.exit_type "Normal", as it does when it shuts down (it
// writes them lazily, so a fresh profile killed early has none).
func cleanExit(dir string) error {
	switch _, err := os.Lstat(filepath.Join(dir, "SingletonLock")); {
	case err == nil:
		return errors.New("the profile is still locked (its SingletonLock is there): Chromium did not exit cleanly")
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("looking for the profile's lock: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "Default", "Preferences"))
	if err != nil {
		return fmt.Errorf("reading the profile's preferences: %w", err)
	}
	var prefs struct {
		Profile struct {
			ExitType string `json:"exit_type"`
		} `json:"profile"`
	}
	if err := json.Unmarshal(raw, &prefs); err != nil {
		return fmt.Errorf("reading the profile's preferences: %w", err)
	}
	if prefs.Profile.ExitType != "Normal" {
		return fmt.Errorf("the profile records Chromium's exit as %q, not Normal", prefs.Profile.ExitType)
	}
	return nil
}

// waitProfileReleased waits until no process runs with dir as its
// --user-data-dir: Chromium passes the flag to each helper it starts
// (zygotes, renderers, utility processes), so the command line finds them
// all, and dir is the test's own. Those still there after a few seconds
// are killed, by pid, and reported. (chromedp kills what still runs on
// the temporary profiles it makes, but it looks for the flag only as an
// argument of its own, and so misses the helpers: see profileProcesses.)
func waitProfileReleased(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := profileProcesses(dir)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			killProcesses(pids)
			return fmt.Errorf("processes %v of the profile %s did not exit within 5s of the browser; killed them", pids, dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tab is one browser tab, in a browser context of its own (newTab): its
// own cookie jar, like a separate incognito window; or in the profile's
// default context (newProfileTab). Every request it makes carries a
// tag in its query (?e2e=A3), so the test finds what the browser sent and
// received for exactly that request among the network events.
type tab struct {
	t    *testing.T
	name string
	base string
	ctx  context.Context
	rec  *recorder
	n    int
}

func newTab(t *testing.T, browserCtx context.Context, name, base string) *tab {
	t.Helper()
	tb, cancel := openTab(t, browserCtx, name, base, true)
	t.Cleanup(cancel) // closes the tab and disposes of its browser context
	return tb
}

// newProfileTab opens a tab in b's default browser context: the profile's
// own, whose cookie jar Chromium keeps on disk, unlike the in-memory jars
// of the isolated contexts newTab opens. The tab closes with the browser.
func newProfileTab(t *testing.T, b *browser, name, base string) *tab {
	t.Helper()
	require.False(t, b.closed, "%s is closed", b.name)
	tb, cancel := openTab(t, b.ctx, name, base, false)
	b.tabs = append(b.tabs, cancel)
	return tb
}

// openTab opens a tab, in a browser context of its own when isolated, and
// returns it and the func that closes it.
func openTab(t *testing.T, browserCtx context.Context, name, base string, isolated bool) (*tab, context.CancelFunc) {
	t.Helper()
	rec := &recorder{byID: map[network.RequestID]*exchange{}}
	opts := []chromedp.ContextOption{chromedp.WithListener(rec.listen)}
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(browserCtx, opts...)
	tb := &tab{t: t, name: name, base: base, ctx: ctx, rec: rec}
	// The first Do opens the tab; the network domain must be on before
	// the first request so that no event is missed.
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, network.Enable, network.EnableParams{})
		return err
	}))
	if err != nil {
		cancel()
		require.NoError(t, err, "tab %s", name)
	}
	if isolated {
		require.NotEmpty(t, chromedp.FromContext(ctx).BrowserContextID, "tab %s has a browser context of its own", name)
	} else {
		require.Empty(t, chromedp.FromContext(ctx).BrowserContextID, "tab %s is in the profile's default browser context", name)
	}
	return tb, cancel
}

// run runs one action in the tab with a deadline.
func run[T any](tb *tab, action chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	require.NoError(tb.t, err, "tab %s", tb.name)
	return v
}

// next returns the URL of path with the next tag of the tab.
func (tb *tab) next(path string) (u, tag string) { return tb.nextAt(tb.base, path) }

// nextAt is next on another origin than the tab's.
func (tb *tab) nextAt(base, path string) (u, tag string) {
	tb.n++
	tag = fmt.Sprintf("%s%d", tb.name, tb.n)
	return base + path + "?e2e=" + tag, tag
}

// navigate loads path as a top-level page, as when the user types the URL,
// and returns the exchange and the text of the page.
func (tb *tab) navigate(path string) (*exchange, string) {
	tb.t.Helper()
	return tb.navigateAt(tb.base, path)
}

// navigateAt is navigate on another origin than the tab's (base is its
// scheme, host and port).
func (tb *tab) navigateAt(base, path string) (*exchange, string) {
	tb.t.Helper()
	u, tag := tb.nextAt(base, path)
	resp := run(tb, chromedp.NavigateResponse(u))
	x := tb.rec.wait(tb.t, tag)
	require.Equal(tb.t, int(resp.Status), x.Status)
	return x, tb.pageText()
}

// submitForm posts fields to path from a real HTML form in the page, a
// top-level navigation as when the user presses a login button, and
// returns the exchange and the text of the page it leads to.
func (tb *tab) submitForm(path string, fields map[string]string) (*exchange, string) {
	tb.t.Helper()
	u, tag := tb.next(path)
	js := fmt.Sprintf(`(() => {
		const form = document.createElement("form");
		form.method = "POST";
		form.action = %s;
		for (const [name, value] of Object.entries(%s)) {
			const input = document.createElement("input");
			input.type = "hidden";
			input.name = name;
			input.value = value;
			form.appendChild(input);
		}
		document.body.appendChild(form);
		form.submit();
	})()`, jsValue(tb.t, u), jsValue(tb.t, fields))
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Evaluate[chromedp.Void](js))
	require.NoError(tb.t, err, "tab %s: submitting a form to %s", tb.name, path)
	x := tb.rec.wait(tb.t, tag)
	require.Equal(tb.t, http.MethodPost, x.Method)
	require.Equal(tb.t, int(resp.Status), x.Status)
	return x, tb.pageText()
}

// pageText is the text of the document the tab shows: for a JSON answer,
// the JSON (Chromium shows it in a <pre>).
func (tb *tab) pageText() string {
	tb.t.Helper()
	return run(tb, chromedp.Evaluate[string](`(document.querySelector("body > pre") || document.body).textContent`))
}

// fetched is what fetch() in the page got.
type fetched struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// fetch runs fetch() in the page (which must show a page of the demo, so
// the request is same-origin and the browser attaches its cookies), with
// form as a urlencoded body when it is not nil.
func (tb *tab) fetch(method, path string, form url.Values) (*exchange, fetched) {
	tb.t.Helper()
	u, tag := tb.next(path)
	init := map[string]any{"method": method, "cache": "no-store"}
	if form != nil {
		init["headers"] = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		init["body"] = form.Encode()
	}
	js := fmt.Sprintf(`fetch(%s, %s).then(async r => ({status: r.status, body: await r.text()}))`,
		jsValue(tb.t, u), jsValue(tb.t, init))
	res := run(tb, chromedp.Evaluate[fetched](js, chromedp.EvalAwaitPromise))
	x := tb.rec.wait(tb.t, tag)
	require.Equal(tb.t, method, x.Method)
	require.Equal(tb.t, res.Status, x.Status, "the status fetch() saw is the one on the wire")
	return x, res
}

// jar returns every cookie the tab's browser context stores, for any site.
func (tb *tab) jar() []*network.Cookie {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{
		BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID,
	})
	require.NoError(tb.t, err, "tab %s: reading the cookie jar", tb.name)
	return res.Cookies
}

// storedSession returns the session cookie the tab's browser context
// stores, or nil, after checking that the jar holds nothing else.
func (tb *tab) storedSession() *network.Cookie {
	tb.t.Helper()
	cookies := tb.jar()
	require.LessOrEqual(tb.t, len(cookies), 1, "tab %s: the jar holds at most the session cookie: %s", tb.name, describeCookies(cookies))
	if len(cookies) == 0 {
		return nil
	}
	require.Equal(tb.t, cookieName, cookies[0].Name, "tab %s: the jar holds at most the session cookie", tb.name)
	return cookies[0]
}

func describeCookies(cs []*network.Cookie) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "[%s=%s domain=%s path=%s secure=%t httponly=%t samesite=%s session=%t] ",
			c.Name, c.Value, c.Domain, c.Path, c.Secure, c.HTTPOnly, c.SameSite, c.Session)
	}
	return b.String()
}

func jsValue(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// exchange is one request as the browser's network stack saw it: what
// went on the wire (the raw headers after cookies were attached) and what
// came back, including what the browser refused to store.
type exchange struct {
	URL, Method string
	// Cookie is the Cookie header the browser sent; "" when none.
	Cookie    string
	UserAgent string
	// Withheld lists the cookies of the jar the browser chose not to send
	// with this request, with its reasons.
	Withheld []string
	// Attached lists the cookies of the jar the browser sent with this
	// request, as name=value with the name as the jar keeps it.
	Attached []string
	Status   int
	// SetCookie holds the Set-Cookie lines of the response.
	SetCookie    []string
	CacheControl string
	// Blocked lists the Set-Cookie lines the browser refused to store,
	// with its reasons.
	Blocked []string

	sent, answered bool
}

// recorder collects the tab's network events by request id.
type recorder struct {
	mu   sync.Mutex
	byID map[network.RequestID]*exchange
}

// listen runs in the tab's event loop: it must return at once.
func (r *recorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		x := r.get(ev.RequestID)
		x.URL, x.Method = ev.Request.URL, ev.Request.Method
	case *network.EventRequestWillBeSentExtraInfo:
		// The headers as they went on the wire, cookies included; the
		// plain requestWillBeSent event has them before cookies are added.
		x := r.get(ev.RequestID)
		x.sent = true
		x.Cookie = header(ev.Headers, "Cookie")
		x.UserAgent = header(ev.Headers, "User-Agent")
		for _, c := range ev.AssociatedCookies {
			if len(c.BlockedReasons) > 0 {
				x.Withheld = append(x.Withheld, fmt.Sprintf("%s %v", c.Cookie.Name, c.BlockedReasons))
			} else {
				x.Attached = append(x.Attached, c.Cookie.Name+"="+c.Cookie.Value)
			}
		}
	case *network.EventResponseReceivedExtraInfo:
		x := r.get(ev.RequestID)
		x.answered = true
		x.Status = int(ev.StatusCode)
		x.CacheControl = header(ev.Headers, "Cache-Control")
		if v := header(ev.Headers, "Set-Cookie"); v != "" {
			// Repeated headers come joined with newlines.
			x.SetCookie = strings.Split(v, "\n")
		}
		for _, b := range ev.BlockedCookies {
			x.Blocked = append(x.Blocked, fmt.Sprintf("%q %v", b.CookieLine, b.BlockedReasons))
		}
	}
}

func (r *recorder) get(id network.RequestID) *exchange {
	x := r.byID[id]
	if x == nil {
		x = &exchange{}
		r.byID[id] = x
	}
	return x
}

// wait returns the exchange of the request tagged tag once both its
// request and its response headers have been seen. The extra-info events
// may come after fetch() has resolved, hence the wait.
func (r *recorder) wait(t *testing.T, tag string) *exchange {
	t.Helper()
	deadline := time.Now().Add(actionTimeout)
	for {
		r.mu.Lock()
		var found []exchange
		for _, x := range r.byID {
			if u, err := url.Parse(x.URL); err == nil && u.Query().Get("e2e") == tag {
				found = append(found, *x)
			}
		}
		r.mu.Unlock()
		require.LessOrEqual(t, len(found), 1, "one request tagged %s", tag)
		if len(found) == 1 && found[0].sent && found[0].answered {
			return &found[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete network record of the request tagged %s within %v (found %+v)", tag, actionTimeout, found)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// header returns the value of the header name (any case) in h.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}
