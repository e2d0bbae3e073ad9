package browsertest

import (
	"context"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/goasync/async"
	"github.com/goasync/async/console"
)

var (
	timelineShot = flag.String("timeline-screenshot", "", "write a screenshot of the console's timeline to this PNG file")
	statsShot    = flag.String("stats-screenshot", "", "with -timeline-screenshot, also write a screenshot of the statistics by name to this PNG file")
)

// The timeline draws a bar per task, in its state, nested under its parent,
// with blocked spans shaded and linked to what they awaited; a state change
// arrives live; zoom changes the scale. The statistics by name count the
// settled tasks and their failures.
func TestTimelineInChromium(t *testing.T) {
	// A fresh registry, so that the statistics are this test's.
	prev := async.SetDebug(false)
	async.SetDebug(true)
	defer async.SetDebug(prev)
	ctx0 := context.Background()
	release := make(chan struct{})
	charge := make(chan *async.Future[string], 1)
	checkout := async.Go(ctx0, func(ctx context.Context) (string, error) {
		c := async.Go(ctx, func(ctx context.Context) (string, error) { <-release; return "charged", nil }, async.Name("charge-card"))
		charge <- c
		return c.Await(ctx)
	}, async.Name("checkout"))
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
		checkout.Await(ctx0)
	}()
	chargeCard := <-charge
	for range 3 {
		async.Go(ctx0, func(ctx context.Context) (string, error) {
			return "", async.Sleep(ctx, 30*time.Millisecond) // a wait the timeline shades
		}, async.Name("nap")).Await(ctx0)
	}
	async.Go(ctx0, func(context.Context) (string, error) { return "", errors.New("smtp: connection refused") }, async.Name("send-email")).Await(ctx0)
	async.Go(ctx0, func(context.Context) (string, error) { return "ok", nil }, async.Name("send-email")).Await(ctx0)
	srv := httptest.NewServer(console.Handler())
	t.Cleanup(srv.Close)
	page := browse(t, srv.URL+"/")

	waitVisible(page, t, `.task[data-name="charge-card"][data-state="running"]`)
	eval[bool](page, t, `document.querySelector('#tabs [data-view=timeline]').click(), true`)
	waitVisible(page, t, `.tl.task[data-name="charge-card"] .bar.running`)

	// Every task row has one bar, in the task's state.
	mismatch := eval[[]string](page, t, `[...document.querySelectorAll('.tl.task')].filter((r) => {
		const bars = r.querySelectorAll('.bar');
		return bars.length !== 1 || bars[0].dataset.state !== r.dataset.state || bars[0].dataset.id !== r.dataset.id;
	}).map((r) => r.dataset.name + ":" + r.dataset.state)`)
	if len(mismatch) != 0 {
		t.Errorf("rows whose bar does not match the task: %v", mismatch)
	}
	rows := eval[int](page, t, `document.querySelectorAll('.tl.task').length`)
	if rows < 6 {
		t.Errorf("%d task rows in the timeline; want checkout, charge-card, three naps and two send-emails", rows)
	}
	// Nested: charge-card under checkout; it starts no earlier.
	nested := eval[bool](page, t, `(() => {
		const c = document.querySelector('.tl.task[data-name="checkout"]'), k = document.querySelector('.tl.task[data-name="charge-card"]');
		const left = (r) => parseFloat(r.querySelector('.bar').style.left);
		return k.dataset.parent === c.dataset.id && Number(k.dataset.depth) === Number(c.dataset.depth) + 1 && left(k) >= left(c);
	})()`)
	if !nested {
		t.Error("charge-card is not drawn under checkout, starting no earlier")
	}
	// Blocked spans: checkout's current wait links to charge-card; each nap
	// shows its past Sleep.
	link := eval[string](page, t, `(document.querySelector('.tl.task[data-name="checkout"] .span') || {dataset: {}}).dataset.goto || ""`)
	if want := eval[string](page, t, `document.querySelector('.tl.task[data-name="charge-card"]').dataset.id`); link != want {
		t.Errorf("checkout's blocked span links to %q; want charge-card, #%s", link, want)
	}
	if naps := eval[int](page, t, `[...document.querySelectorAll('.tl.task[data-name="nap"]')].filter((r) => r.querySelector('.span')).length`); naps != 3 {
		t.Errorf("%d naps with a shaded Sleep; want 3", naps)
	}
	if title := eval[string](page, t, `document.querySelector('.tl.task[data-name="nap"] .span').title`); !strings.Contains(title, "Sleep 30ms") {
		t.Errorf("a nap's span says %q; want its Sleep", title)
	}
	// Following the link selects the awaited task.
	eval[bool](page, t, `document.querySelector('.tl.task[data-name="checkout"] .span').dispatchEvent(new MouseEvent('click', {bubbles: true})), true`)
	if d := text(page, t, `#details-body`); !strings.Contains(d, "charge-card") {
		t.Errorf("details after following the span: %q; want charge-card", d)
	}

	// Zoom in: half the window, wider bars.
	before := eval[float64](page, t, `parseFloat(document.querySelector('.tl.task[data-name="checkout"] .bar').style.width)`)
	eval[bool](page, t, `document.querySelector('#tl-in').click(), true`)
	after := eval[float64](page, t, `parseFloat(document.querySelector('.tl.task[data-name="checkout"] .bar').style.width)`)
	if r := text(page, t, `#tl-range`); !strings.Contains(r, "last 30.0 s") || !(after > before) {
		t.Errorf("after zooming in: range %q, checkout's bar %.2f%% → %.2f%%; want the last 30 s and a wider bar", r, before, after)
	}
	// Pan: dragging left shows later times (here the future), and the
	// window stops following the present.
	leftBefore := eval[float64](page, t, `parseFloat(document.querySelector('.tl.task[data-name="checkout"] .bar').style.left)`)
	eval[bool](page, t, `(() => {
		const lane = document.querySelector('.tl.task[data-name="checkout"] .lane'), r = lane.getBoundingClientRect();
		lane.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + 4}));
		window.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + r.width / 4, clientY: r.top + 4}));
		window.dispatchEvent(new PointerEvent('pointerup', {}));
		return true;
	})()`)
	if err := chromedp.Do(page, chromedp.Poll[chromedp.Void](`document.querySelector('#tl-range').textContent.includes('ahead')`)); err != nil {
		t.Fatalf("the range does not say the window was panned: %v", err)
	}
	if leftAfter := eval[float64](page, t, `parseFloat(document.querySelector('.tl.task[data-name="checkout"] .bar').style.left)`); !(leftAfter < leftBefore) {
		t.Errorf("checkout's bar at %.2f%% before the drag, %.2f%% after; want it moved left", leftBefore, leftAfter)
	}
	eval[bool](page, t, `document.querySelector('#tl-live').click(), true`)

	// A state change arrives live.
	close(release)
	chargeCard.Await(ctx0)
	waitVisible(page, t, `.tl.task[data-name="charge-card"][data-state="done"] .bar.done`)

	// Statistics by name.
	eval[bool](page, t, `document.querySelector('#tabs [data-view=stats]').click(), true`)
	waitVisible(page, t, `#stats-table tr[data-name="send-email"]`)
	if f := strings.Fields(text(page, t, `#stats-table tr[data-name="send-email"]`)); len(f) < 6 || f[1] != "0" || f[2] != "2" || f[3] != "1" || f[4] != "50.0" {
		t.Errorf("send-email's statistics %q; want 0 live, 2 settled, 1 failed, 50.0 %%", f)
	}
	// A nap sleeps 30 ms: its p50 is at least that (less the histogram's 3%).
	if f := strings.Fields(text(page, t, `#stats-table tr[data-name="nap"]`)); len(f) < 8 || f[2] != "3" || f[7] != "ms" || atoi(f[6]) < 29 {
		t.Errorf("nap's statistics %q; want 3 settled, p50 at least 29 ms", f)
	}
	if v := eval[[]string](page, t, `window.cspViolations`); len(v) != 0 {
		t.Errorf("the page broke its own Content-Security-Policy: %v", v)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// TestTimelineScreenshot writes the README's picture of the timeline: a
// request that took seconds, and why. It runs only with -timeline-screenshot.
func TestTimelineScreenshot(t *testing.T) {
	if *timelineShot == "" {
		t.Skip("run with -timeline-screenshot file.png")
	}
	defer async.SetDebug(async.SetDebug(true))
	ctx := context.Background()
	sleep := func(d time.Duration) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) { return "", async.Sleep(ctx, d) }
	}
	release := make(chan struct{})
	defer close(release)
	pool := async.NewPool(3, async.Name("thumbnails"))
	defer pool.Close()
	cart := async.Go(ctx, func(ctx context.Context) (string, error) {
		return async.Go(ctx, func(ctx context.Context) (string, error) { <-release; return "", nil }, async.Name("charge-card")).Await(ctx)
	}, async.Name("GET /cart"))
	defer cart.Cancel()
	product := async.Go(ctx, func(ctx context.Context) (string, error) {
		user := async.Go(ctx, sleep(300*time.Millisecond), async.Name("load-user"))
		prices := async.Go(ctx, func(ctx context.Context) (string, error) {
			n := 0
			return async.Retry(ctx, func(ctx context.Context) (string, error) {
				if _, err := sleep(250 * time.Millisecond)(ctx); err != nil {
					return "", err
				}
				if n++; n < 3 {
					return "", errors.New("prices: 503")
				}
				return "ok", nil
			}, async.Attempts(3), async.Backoff(500*time.Millisecond, 500*time.Millisecond))
		}, async.Name("fetch-prices"))
		reviews := async.Go(ctx, sleep(900*time.Millisecond), async.Name("load-reviews"))
		var thumbs []*async.Future[string]
		for i := range 6 {
			thumbs = append(thumbs, async.Submit(ctx, pool, sleep(time.Duration(200+100*i)*time.Millisecond)))
		}
		if _, err := async.All(ctx, user, prices, reviews); err != nil {
			return "", err
		}
		async.AllSettled(ctx, thumbs...)
		return async.Go(ctx, sleep(250*time.Millisecond), async.Name("render-page")).Await(ctx)
	}, async.Name("GET /product/42"))
	if _, err := product.Await(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		async.Go(ctx, func(ctx context.Context) (string, error) {
			if _, err := sleep(time.Duration(40+30*i) * time.Millisecond)(ctx); err != nil || i%3 == 1 {
				return "", errors.New("smtp: connection refused")
			}
			return "sent", nil
		}, async.Name("send-email")).Await(ctx)
	}

	srv := httptest.NewServer(console.Handler())
	t.Cleanup(srv.Close)
	page := browse(t, srv.URL+"/")
	waitVisible(page, t, `.task[data-name="GET /product/42"]`)
	eval[bool](page, t, `(() => {
		document.querySelector('#tabs [data-view=timeline]').click();
		for (let i = 0; i < 3; i++) document.querySelector('#tl-in').click();
		const g = document.querySelector('.grp[data-name="thumbnails"]');
		if (g) g.click();
		const r = document.querySelector('.tl.task[data-name="fetch-prices"]');
		r.dispatchEvent(new MouseEvent('click', {bubbles: true}));
		return true;
	})()`)
	waitVisible(page, t, `.tl.task[data-name="render-page"] .bar.done`)
	png, err := chromedp.Run(page, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*timelineShot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if *statsShot != "" {
		eval[bool](page, t, `document.querySelector('#tabs [data-view=stats]').click(), true`)
		waitVisible(page, t, `#stats-table tr[data-name="thumbnails"]`)
		png, err := chromedp.Run(page, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*statsShot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
