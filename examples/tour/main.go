// Command tour shows goasync against a simulated slow API: the slow loop
// pitfall and its fix, errors as values, timeouts that leave futures intact,
// Race and Any, panics with their stacks, and unobserved failures.
//
//	go run ./examples/tour
//
// With -console 127.0.0.1:6060 it also serves the task console (package
// console) there and, after the tour, keeps a live workload running so that
// a person can look at it, until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/goasync/async"
)

// items is how many endpoints the tour fetches; each takes 100 ms.
const items = 30

type row struct {
	demo, took, outcome string
}

var table []row

// step runs one demo, times it, and records its outcome for the summary table.
func step(title string, fn func() string) {
	fmt.Printf("\n── %s\n", title)
	start := time.Now()
	outcome := fn()
	took := time.Since(start).Round(time.Millisecond)
	fmt.Printf("   → %s (%v)\n", outcome, took)
	table = append(table, row{title, took.String(), outcome})
}

func main() {
	consoleAddr := flag.String("console", "", "also serve the task console on this address (such as 127.0.0.1:6060) and keep running until interrupted")
	flag.Parse()
	if *consoleAddr != "" {
		if err := runWithConsole(*consoleAddr); err != nil {
			fmt.Fprintln(os.Stderr, "tour:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

func run() error {
	api := newAPI()
	defer api.Close()
	c := &client{base: api.URL, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: items}}}
	ctx := context.Background()
	fmt.Printf("goasync tour: a simulated API on %s, %d endpoints, %v each\n", api.URL, items, latency)

	// ids are the items to fetch, leaving out the broken one for the first demos.
	var ids []int
	for id := range items + 1 {
		if id != brokenItem {
			ids = append(ids, id)
		}
	}
	ids = ids[:items]

	step("sequential await in a loop (the slow-loop pitfall)", func() string {
		total := 0.0
		for _, id := range ids {
			// Each iteration waits for the previous one: 30 × 100 ms.
			//asyncvet:ignore awaitloop this demo shows the slow loop on purpose
			it, err := async.Go(ctx, func(ctx context.Context) (item, error) { return c.item(ctx, id) }).Await(ctx)
			if err != nil {
				return "error: " + err.Error()
			}
			total += it.Price
		}
		return fmt.Sprintf("%d items, total %.1f", len(ids), total)
	})

	fetch := async.Func(c.item) // an "async function": each call starts a request
	step("async.All: start them all, then await once", func() string {
		fs := make([]*async.Future[item], len(ids))
		for i, id := range ids {
			fs[i] = fetch(ctx, id)
		}
		all, err := async.All(ctx, fs...)
		if err != nil {
			return "error: " + err.Error()
		}
		total := 0.0
		for _, it := range all {
			total += it.Price
		}
		return fmt.Sprintf("%d items, total %.1f", len(all), total)
	})

	step("async.Map with Limit and a progress bar", func() string {
		// The loop pitfall's one-line fix, bounded to 8 requests at a time.
		items, err := async.Map(ctx, ids, c.item, async.Limit(8), async.Progress(func(done, total int) {
			const width = 30
			filled := width * done / total
			fmt.Printf("\r   [%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
			if done == total {
				fmt.Println()
			}
		}))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("%d items in input order (first id %d), at most 8 in flight", len(items), items[0].ID)
	})

	step("errors propagate as values (Go's try/catch)", func() string {
		fs := []*async.Future[item]{fetch(ctx, 1), fetch(ctx, brokenItem), fetch(ctx, 3)}
		_, err := async.All(ctx, fs...)
		var httpErr *HTTPError
		if errors.As(err, &httpErr) { // catch (HTTPError e)
			return fmt.Sprintf("caught %d from %s: %q", httpErr.Status, httpErr.URL, httpErr.Body)
		}
		return fmt.Sprintf("unexpected: %v", err)
	})

	step("a timeout on Await leaves the future intact", func() string {
		slow := async.Go(ctx, func(ctx context.Context) (item, error) { return c.get(ctx, "/slow") })
		short, cancel := context.WithTimeout(ctx, latency/2)
		defer cancel()
		_, err := slow.Await(short) // gives up waiting, the request goes on
		first := "gave up: " + err.Error()
		it, err := slow.Await(ctx) // awaits the same future again
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("%s; then awaited again: item %d", first, it.ID)
	})

	step("Race: the first to settle wins (and the loser is canceled by us)", func() string {
		slow := async.Go(ctx, func(ctx context.Context) (item, error) { return c.get(ctx, "/slow") })
		fast := fetch(ctx, 2)
		it, err := async.Race(ctx, slow, fast)
		slow.Cancel() // Race cancels nothing itself: the caller decides
		_, loserErr := slow.Await(ctx)
		return fmt.Sprintf("item %d won (err=%v); the loser ended with ErrCanceled: %v",
			it.ID, err, errors.Is(loserErr, async.ErrCanceled))
	})

	step("Any: the first success wins; a failure alone does not", func() string {
		it, err := async.Any(ctx, fetch(ctx, brokenItem), fetch(ctx, 4))
		return fmt.Sprintf("item %d, err=%v", it.ID, err)
	})

	step("a panic in a task becomes an error with its own stack", func() string {
		f := async.Go(ctx, func(ctx context.Context) (float64, error) {
			prices := []float64{} // a bug: indexes past the end
			return prices[items], nil
		}, async.Name("sum-prices"))
		_, err := f.Await(ctx)
		var pe *async.PanicError
		if !errors.As(err, &pe) {
			return fmt.Sprintf("unexpected: %v", err)
		}
		fmt.Printf("   task %q panicked: %v\n", pe.Task, pe.Value)
		for _, line := range stackLines(pe.Stack, 4) {
			fmt.Println("     " + line)
		}
		// The server's own handler task panicked too, and the server survived.
		_, serverErr := c.get(ctx, "/panic")
		return fmt.Sprintf("recovered; the server answered %v", serverErr)
	})

	step("a failure nobody awaited is reported, not dropped", func() string {
		reported := make(chan async.UnobservedFailure, 1)
		prev := async.SetUnobservedHandler(func(u async.UnobservedFailure) {
			select {
			case reported <- u:
			default:
			}
		})
		defer func() { async.SetUnobservedHandler(prev) }()
		done := make(chan struct{})
		forget(ctx, fetch, done) // starts a failing task and drops its future
		<-done
		deadline := time.After(5 * time.Second)
		for {
			runtime.GC() // the report comes when the future is collected
			select {
			case u := <-reported:
				return fmt.Sprintf("reported: %v", u.Err)
			case <-deadline:
				return "not reported (the garbage collector did not run the cleanup in time)"
			case <-time.After(10 * time.Millisecond):
			}
		}
	})

	loopDemos()

	fmt.Printf("\nThe loop took %s; async.All took %s for the same %d requests.\n", table[0].took, table[1].took, len(ids))
	fmt.Println("\nSummary")
	w := tabwriter.NewWriter(os.Stdout, 2, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  demo\twall time\toutcome")
	for _, r := range table {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", r.demo, r.took, shorten(r.outcome, 60))
	}
	return w.Flush()
}

// forget starts a failing task and returns without keeping its future: the
// mistake the unobserved-failure report exists for.
//
//go:noinline
func forget(ctx context.Context, fetch func(context.Context, int) *async.Future[item], done chan<- struct{}) {
	//asyncvet:ignore unawaited this demo drops the future on purpose
	f := async.Go(ctx, func(ctx context.Context) (item, error) {
		defer close(done)
		return fetch(ctx, brokenItem).Await(ctx)
	}, async.Name("forgotten-fetch"))
	_ = f
}

// stackLines returns the first n lines of the stack that follow the panic.
func stackLines(stack []byte, n int) []string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+2 < len(lines) {
			lines = lines[i+2:]
			break
		}
	}
	if len(lines) > n {
		lines = lines[:n]
	}
	return lines
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
