package browsertest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/goasync/async"
	"github.com/goasync/async/console"
	"go.uber.org/goleak"
)

const chromium = "/usr/bin/chromium"

var screenshot = flag.String("screenshot", "", "write a screenshot of the console to this PNG file")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scene is a small shop's back end: a checkout awaiting a card charge, two
// tasks awaiting each other, a pool with work queued, and finished tasks.
type scene struct {
	release          chan struct{}
	checkout, cycleA *async.Future[string]
	cycleB           *async.Future[string]
	pool             *async.Pool
	resizes          []*async.Future[string]
}

func startScene() *scene {
	ctx := context.Background()
	s := &scene{release: make(chan struct{}), pool: async.NewPool(2, async.Name("image-resizer"))}
	s.checkout = async.Go(ctx, func(ctx context.Context) (string, error) {
		charge := async.Go(ctx, func(ctx context.Context) (string, error) {
			<-s.release
			return "charged", nil
		}, async.Name("charge-card"))
		return charge.Await(ctx)
	}, async.Name("checkout"))
	ready := make(chan struct{})
	s.cycleA = async.Go(ctx, func(ctx context.Context) (string, error) { <-ready; return s.cycleB.Await(ctx) }, async.Name("reserve-stock"))
	s.cycleB = async.Go(ctx, func(ctx context.Context) (string, error) { return s.cycleA.Await(ctx) }, async.Name("update-ledger"))
	close(ready)
	for range 3 {
		s.resizes = append(s.resizes, async.Submit(ctx, s.pool, func(ctx context.Context) (string, error) {
			<-s.release
			return "resized", nil
		}))
	}
	async.Go(ctx, func(context.Context) (string, error) { return "", errors.New("smtp: connection refused") }, async.Name("send-email")).Await(ctx)
	async.Go(ctx, func(context.Context) (string, error) { return "ok", nil }, async.Name("load-cart")).Await(ctx)
	return s
}

func (s *scene) stop() {
	ctx := context.Background()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.cycleA.Cancel()
	s.cycleB.Await(ctx)
	s.checkout.Await(ctx)
	async.AllSettled(ctx, s.resizes...)
	s.pool.Close()
}

// text returns the text of the first element matching the CSS selector sel.
func text(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](ctx context.Context, t *testing.T, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitVisible waits until an element matching the CSS selector sel is
// visible: the page updates itself from the server's event stream.
func waitVisible(ctx context.Context, t *testing.T, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("waiting for %s: %v", sel, err)
	}
}

// browse starts a headless Chromium (with extra flags) and opens url. The
// first action starts the browser, under a context without a deadline (a
// deadline would end the browser); the returned context bounds later ones so
// that a broken page fails the test instead of hanging it. The bound is not
// a timing assertion.
func browse(t *testing.T, url string, flags ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: run .ci/setup-chromium.sh (as root) to install Debian's chromium", chromium)
	}
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}, flags...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	// Count Content-Security-Policy violations from the first script on.
	if err := chromedp.Do(browser, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.cspViolations = [];
			document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`})
		return err
	}), chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(browser, 120*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConsoleInChromium(t *testing.T) {
	defer async.SetDebug(async.SetDebug(true))
	s := startScene()
	defer s.stop()
	srv := httptest.NewServer(console.Handler()) // on 127.0.0.1
	t.Cleanup(srv.Close)                         // after the browser has gone, with its event stream
	ctx := browse(t, srv.URL+"/")

	// The rendered tree: charge-card, running, under checkout, which is
	// blocked awaiting it; the await cycle highlighted.
	waitVisible(ctx, t, `.task[data-name="charge-card"][data-state="running"]`)
	waitVisible(ctx, t, `.task[data-name="checkout"][data-state="blocked"]`)
	waitVisible(ctx, t, `.cycle-banner`)
	if !eval[bool](ctx, t, `(() => {
		const c = document.querySelector('.task[data-name="checkout"]'), k = document.querySelector('.task[data-name="charge-card"]');
		return k.dataset.parent === c.dataset.id && Number(k.dataset.depth) === Number(c.dataset.depth) + 1;
	})()`) {
		t.Error("charge-card is not rendered under checkout")
	}
	if row := text(ctx, t, `.task[data-name="checkout"]`); !strings.Contains(row, "awaits") || !strings.Contains(row, "charge-card") {
		t.Errorf("checkout's row %q does not say it awaits charge-card", row)
	}
	if banner := text(ctx, t, `.cycle-banner`); !strings.Contains(banner, "reserve-stock") || !strings.Contains(banner, "update-ledger") || !strings.Contains(banner, "→") {
		t.Errorf("cycle banner %q does not name both tasks", banner)
	}
	inCycle := eval[[]string](ctx, t, `[...document.querySelectorAll('.task.in-cycle')].map(li => li.dataset.name + ":" + getComputedStyle(li).outlineStyle)`)
	if fmt.Sprint(inCycle) != "[reserve-stock:solid update-ledger:solid]" {
		t.Errorf("highlighted tasks %v; want reserve-stock and update-ledger outlined", inCycle)
	}

	// Pool stats and the failed task are shown.
	if f := strings.Fields(text(ctx, t, `#pools tr[data-pool="image-resizer"]`)); len(f) != 6 || f[1] != "2" || f[2] != "2" || f[3] != "1" {
		t.Errorf("pool row %q; want image-resizer with 2 workers, 2 running, 1 queued", f)
	}
	if e := text(ctx, t, `.task[data-name="send-email"][data-state="failed"] .err`); !strings.Contains(e, "connection refused") {
		t.Errorf("failed task's error %q", e)
	}

	if *screenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Filtering by state hides the others.
	shown := eval[[]string](ctx, t, `(() => {
		const f = document.querySelector('#filter-state');
		f.value = 'failed'; f.dispatchEvent(new Event('change'));
		const names = [...document.querySelectorAll('.task')].map(li => li.dataset.name);
		f.value = ''; f.dispatchEvent(new Event('change'));
		return names;
	})()`)
	if fmt.Sprint(shown) != "[send-email]" {
		t.Errorf("with the failed filter the page shows %v; want [send-email]", shown)
	}

	// A state change reaches the page live: releasing the card charge
	// settles charge-card and checkout.
	close(s.release)
	waitVisible(ctx, t, `.task[data-name="charge-card"][data-state="done"]`)
	waitVisible(ctx, t, `.task[data-name="checkout"][data-state="done"]`)
	if v := eval[[]string](ctx, t, `window.cspViolations`); len(v) != 0 {
		t.Errorf("the page broke its own Content-Security-Policy: %v", v)
	}
}
