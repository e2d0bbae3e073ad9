package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/goasync/async"
	"github.com/goasync/async/console"
)

// A page on another origin cannot read the console through DNS rebinding:
// its own name resolves to 127.0.0.1 (Chromium's host resolver rules play
// the attacker's DNS), so the browser treats the console as the attacker's
// origin; the console refuses the attacker's Host.
func TestDNSRebindingInChromium(t *testing.T) {
	defer async.SetDebug(async.SetDebug(true))
	srv := httptest.NewServer(console.Handler())
	t.Cleanup(srv.Close) // after the browser has gone, with its event stream
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	ctx := browse(t, "http://rebind.attacker.example:"+port+"/",
		chromedp.Flag("host-resolver-rules", "MAP *.attacker.example 127.0.0.1"))

	// The attacker's page, now same-origin with the console, reads the API.
	got := eval[string](ctx, t, `fetch("/api/tasks").then((r) => r.status + " " + r.headers.get("content-type"))`, chromedp.EvalAwaitPromise)
	if !strings.HasPrefix(got, "403 ") {
		t.Errorf("the rebound page read /api/tasks: %s; want 403", got)
	}
	if body := eval[string](ctx, t, `document.body.innerText`); strings.Contains(body, "goasync console") {
		t.Errorf("the rebound page was served the console: %q", body)
	}
}

// Task names, errors and panic values are shown as text: no script in them
// runs, no markup in them is parsed.
func TestHostileTextInChromium(t *testing.T) {
	defer async.SetDebug(async.SetDebug(true))
	ctx0 := context.Background()
	release := make(chan struct{})
	payloads := []string{
		`<img src=x onerror="window.pwned='name'">`,
		`"><script>window.pwned='attr'</script>`,
		`</style><svg onload="window.pwned='svg'">`,
		`javascript:window.pwned='href'`,
	}
	var fs []*async.Future[int]
	for _, p := range payloads {
		fs = append(fs, async.Go(ctx0, func(context.Context) (int, error) { <-release; return 0, nil }, async.Name(p)))
	}
	failed := async.Go(ctx0, func(context.Context) (int, error) {
		return 0, errors.New(`<img src=x onerror="window.pwned='err'">`)
	}, async.Name("fails"))
	failed.Await(ctx0)
	panicked := async.Go(ctx0, func(context.Context) (int, error) {
		panic(`<iframe src="javascript:parent.pwned='panic'"></iframe>`)
	}, async.Name("panics"))
	panicked.Await(ctx0)
	defer func() {
		close(release)
		async.AllSettled(ctx0, fs...)
	}()
	srv := httptest.NewServer(console.Handler())
	t.Cleanup(srv.Close) // after the browser has gone, with its event stream
	ctx := browse(t, srv.URL+"/")

	waitVisible(ctx, t, `.task[data-name="panics"][data-state="failed"]`)
	for _, p := range payloads {
		if !eval[bool](ctx, t, `[...document.querySelectorAll(".name")].some((e) => e.textContent === `+jsString(p)+`)`) {
			t.Errorf("name %q is not shown as text", p)
		}
	}
	if e := text(ctx, t, `.task[data-name="fails"] .err`); !strings.Contains(e, `<img src=x onerror=`) {
		t.Errorf("error shown as %q; want its text", e)
	}
	if e := text(ctx, t, `.task[data-name="panics"] .err`); !strings.Contains(e, `<iframe src=`) {
		t.Errorf("panic value shown as %q; want its text", e)
	}
	if n := eval[int](ctx, t, `document.querySelectorAll("main img, main svg script, main iframe, main script").length`); n != 0 {
		t.Errorf("%d elements were parsed from task text", n)
	}
	if p := eval[string](ctx, t, `String(window.pwned)`); p != "undefined" {
		t.Errorf("a payload ran: window.pwned = %q", p)
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "$", `\$`)
	return "`" + r.Replace(s) + "`"
}

// When the console serves as many streams as it may, the page is refused
// one (503) and polls instead.
func TestPollingWhenStreamsAreFullInChromium(t *testing.T) {
	defer async.SetDebug(async.SetDebug(true))
	release := make(chan struct{})
	f := async.Go(context.Background(), func(context.Context) (int, error) { <-release; return 0, nil }, async.Name("still-shown"))
	defer func() { close(release); f.Await(context.Background()) }()
	srv := httptest.NewServer(console.Handler(console.MaxStreams(1)))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before srv.Close: ends the stream holding the only slot
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/events", nil)
	res, err := srv.Client().Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("first stream: %v %v", res, err)
	}
	t.Cleanup(func() { res.Body.Close() })

	page := browse(t, srv.URL+"/")
	waitVisible(page, t, `.task[data-name="still-shown"]`)
	if st := text(page, t, `#status`); st != "polling" {
		t.Errorf("status %q; want polling", st)
	}
}

// statusLog records the status of each request a handler answers.
type statusLog struct {
	h    http.Handler
	mu   sync.Mutex
	seen []string // "path status Sec-Fetch-Site"
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return w.ResponseWriter.Write(b)
}
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (l *statusLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		l.mu.Lock()
		l.seen = append(l.seen, fmt.Sprintf("%s %d %s", r.URL.Path, sw.code, r.Header.Get("Sec-Fetch-Site")))
		l.mu.Unlock()
	}()
	l.h.ServeHTTP(sw, r)
}

func (l *statusLog) log() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// A page of another origin cannot start the console's streams (which it
// could not read, but which would take the slots) nor fetch its API: the
// console refuses cross-site requests.
func TestCrossOriginInChromium(t *testing.T) {
	defer async.SetDebug(async.SetDebug(true))
	log := &statusLog{h: console.Handler()}
	srv := httptest.NewServer(log)
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	target := "http://localhost:" + port
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><script>
			window.es = new EventSource(%[1]q + "/api/events");
			fetch(%[1]q + "/api/tasks", {mode: "no-cors"}).catch(() => {});
		</script>`, target)
	}))
	t.Cleanup(attacker.Close)
	page := browse(t, strings.Replace(attacker.URL, "127.0.0.1", "evil.example", 1),
		chromedp.Flag("host-resolver-rules", "MAP evil.example 127.0.0.1"))

	// Wait, in the page, until the event source gave up.
	if err := chromedp.Do(page, chromedp.Poll[chromedp.Void](`window.es && window.es.readyState === EventSource.CLOSED`)); err != nil {
		t.Fatalf("the cross-origin event source did not fail: %v", err)
	}
	var events, tasks bool
	for _, l := range log.log() {
		f := strings.Fields(l)
		if len(f) != 3 || f[2] != "cross-site" {
			t.Errorf("unexpected request %q", l)
			continue
		}
		if f[1] != "403" {
			t.Errorf("cross-site request %q was served", l)
		}
		events = events || f[0] == "/api/events"
		tasks = tasks || f[0] == "/api/tasks"
	}
	if !events {
		t.Errorf("the console saw no cross-site stream request: %v", log.log())
	}
	_ = tasks // the no-cors fetch may still be in flight; its status is checked if it arrived
}
