package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// demo is examples/nethttp, built from this checkout and running on a
// loopback port for one test.
type demo struct {
	// base is what the browser browses: http://localhost:PORT, where
	// Chromium keeps the demo's default Secure __Host- cookie although the
	// scheme is http (see TestBrowserSessionLifecycle).
	base string
	// direct is the same server for the raw Go client: http://127.0.0.1:PORT.
	direct string
	log    *syncBuffer
}

// listeningRE finds the address in the line the demo logs once it listens.
var listeningRE = regexp.MustCompile(`listening"? addr=http://(127\.0\.0\.1:[0-9]+)`)

// startDemo builds examples/nethttp (with -race when this test runs with
// it, so the demo's own races fail the test), starts it on a free loopback
// port with args after -addr, and waits for /healthz. Cleanup stops it
// with SIGTERM, its graceful shutdown, and fails the test unless it exits 0.
func startDemo(t *testing.T, args ...string) *demo {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "nethttp")
	build := []string{"build", "-o", bin}
	if raceEnabled {
		build = append(build, "-race")
	}
	build = append(build, "./examples/nethttp")
	cmd := exec.Command(goTool(), build...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(build, " "), out)

	d := &demo{log: &syncBuffer{}}
	// Port 0: the kernel picks a free port, which the demo logs; no race
	// with another process for a port chosen here.
	proc := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	proc.Stdout, proc.Stderr = d.log, d.log
	dieWithTest(proc)
	started := make(chan error, 1)
	exited := make(chan struct{})
	var waitErr error
	go func() {
		// dieWithTest's signal comes when the thread that started the
		// demo ends, so this goroutine keeps its thread until the demo
		// exits (as chromedp does for Chromium).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := proc.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		waitErr = proc.Wait()
		close(exited)
	}()
	require.NoError(t, <-started)
	t.Cleanup(func() {
		select {
		case <-exited:
			t.Errorf("the demo exited before the test ended: %v", waitErr)
		default:
			_ = proc.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
				if waitErr != nil {
					t.Errorf("the demo exited with %v after SIGTERM, want status 0", waitErr)
				}
			case <-time.After(15 * time.Second):
				_ = proc.Process.Kill()
				<-exited
				t.Errorf("the demo did not stop within 15s of SIGTERM; killed it")
			}
		}
		if strings.Contains(d.log.String(), "DATA RACE") {
			t.Errorf("the race detector found a data race in the demo")
		}
		if t.Failed() {
			t.Logf("demo log:\n%s", d.log.String())
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(d.log.String()); m != nil {
			d.direct = "http://" + m[1]
			_, port, _ := strings.Cut(m[1], ":")
			d.base = "http://localhost:" + port
			break
		}
		select {
		case <-exited:
			t.Fatalf("the demo exited before it listened: %v\n%s", waitErr, d.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not log its address within 30s:\n%s", d.log.String())
		}
	}
	for {
		status, body, _ := d.get(t, "/healthz", "")
		if status == http.StatusOK {
			require.JSONEq(t, `{"ok":true}`, body)
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz: no 200 within 30s (last status %d)", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get sends GET path from a plain Go client, not the browser, with the
// session cookie set to token when token is not empty. It returns the
// status, the body and the Set-Cookie lines; status 0 means no answer.
func (d *demo) get(t *testing.T, path, token string) (status int, body string, setCookie []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.direct+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Cookie", cookieName+"="+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header.Values("Set-Cookie")
}

// login posts the form field user to /login from a plain Go client, not
// the browser, and returns the session token the demo issued.
func (d *demo) login(t *testing.T, user string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.direct+"/login", strings.NewReader(url.Values{"user": {user}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "POST /login: %s", b)
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			require.Regexp(t, tokenRE, c.Value)
			return c.Value
		}
	}
	t.Fatalf("POST /login set no %s cookie: %v", cookieName, resp.Header.Values("Set-Cookie"))
	return ""
}

// goTool is the go command of the toolchain running this test.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// chromiumPath finds Chromium: $CHROMIUM, else chromium (Debian's package)
// or one of its other usual names on PATH. Without one the test skips,
// except under CI=true, where it fails: CI must run it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		abs, err := exec.LookPath(p)
		require.NoError(t, err, "CHROMIUM=%s", p)
		return abs
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium: install Debian's package (apt-get install -y chromium; .ci/run does) or set CHROMIUM to the browser's path"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: failing rather than skipping)")
	}
	t.Skip(msg)
	return ""
}

// syncBuffer is a bytes.Buffer safe for the demo's and Chromium's output
// goroutines and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
