package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"
)

// The load generator: the product page through goasync's handler and
// through errgroup's, in one run, against one service.

// loadResult is what one handler did under load.
type loadResult struct {
	name      string
	latencies []time.Duration // of successful requests
	partial   int             // answers with a missing part
	failed    int             // errors and non-200 answers
	elapsed   time.Duration   // time spent driving this handler
}

// rounds is how many times the two handlers take turns: alternating in
// short rounds spreads the machine's changing load over both.
const rounds = 10

// runLoad starts the service in this process, drives GET /products/{id} and
// GET /errgroup/products/{id} with conc clients each, in alternating rounds,
// for d in all, and writes a table to out.
func runLoad(ctx context.Context, cfg config, d time.Duration, conc int, out io.Writer) error {
	if conc < 1 {
		return fmt.Errorf("-c %d: want at least one client", conc)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.Trace, cfg.Debug = nil, false // measure the handlers, not the exporter
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ready := make(chan string, 1)
	cfg.Ready = func(url string) { ready <- url }
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(sctx, cfg) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		stop()
		return err
	}
	defer func() { stop(); <-done }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	results := []*loadResult{{name: "goasync"}, {name: "errgroup"}}
	paths := []string{"/products/", "/errgroup/products/"}
	fmt.Fprintf(out, "load: %v, %d clients, %d alternating rounds, GOMAXPROCS %d; page deadline %v, downstream %v + up to %v per call\n",
		d, conc, rounds, runtime.GOMAXPROCS(0), cfg.Fan.Budget, cfg.Down.Latency, cfg.Down.Jitter)
	slot := d / (2 * rounds)
	for round := range rounds {
		for i, r := range results {
			if ctx.Err() != nil {
				break
			}
			drive(ctx, client, base+paths[i], conc, slot, r)
			_ = round
		}
	}
	return writeLoad(out, results)
}

// drive sends requests from conc clients for d and adds what happened to r.
func drive(ctx context.Context, client *http.Client, prefix string, conc int, d time.Duration, r *loadResult) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conc {
		wg.Go(func() {
			var lat []time.Duration
			partial, failed := 0, 0
			for n := c; ctx.Err() == nil; n++ {
				url := prefix + strconv.Itoa(1+n%len(demoProducts))
				t0 := time.Now()
				page, err := getPage(ctx, client, url)
				switch {
				case ctx.Err() != nil: // cut by the end of the round: not counted
				case err != nil:
					failed++
				default:
					lat = append(lat, time.Since(t0))
					if page.Partial {
						partial++
					}
				}
			}
			mu.Lock()
			r.latencies = append(r.latencies, lat...)
			r.partial += partial
			r.failed += failed
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed += time.Since(start)
}

func getPage(ctx context.Context, client *http.Client, url string) (ProductPage, error) {
	var page ProductPage
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return page, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return page, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return page, fmt.Errorf("%s: %s", url, resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	return page, err
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func writeLoad(out io.Writer, results []*loadResult) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "handler\trequests\treq/s\tp50\tp99\tpartial\tfailed\t")
	for _, r := range results {
		slices.Sort(r.latencies)
		rate := 0.0
		if r.elapsed > 0 {
			rate = float64(len(r.latencies)) / r.elapsed.Seconds()
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%v\t%v\t%d\t%d\t\n", r.name, len(r.latencies), rate,
			percentile(r.latencies, 0.50).Round(10*time.Microsecond), percentile(r.latencies, 0.99).Round(10*time.Microsecond), r.partial, r.failed)
	}
	return tw.Flush()
}
