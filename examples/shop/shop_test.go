package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects the trace exporter's output, written from many
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startShop runs the service on loopback against down, and stops it (and
// checks it stopped cleanly) when the test ends.
func startShop(t *testing.T, down *downstream, trace io.Writer) (base, dir string) {
	t.Helper()
	downSrv := httptest.NewServer(down.handler())
	t.Cleanup(downSrv.Close)
	cfg := defaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Dir = t.TempDir()
	cfg.Downstream = downSrv.URL
	cfg.Down = down.cfg
	cfg.Fan = fanout{Budget: 400 * time.Millisecond, PerCall: 150 * time.Millisecond, Attempts: 3, Backoff: time.Millisecond}
	cfg.Trace = trace
	cfg.Debug = true
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})) // shown when a test fails
	ready := make(chan string, 1)
	cfg.Ready = func(url string) { ready <- url }
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg) }()
	select {
	case base = <-ready:
	case err := <-done:
		stop()
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run after shutdown: %v", err)
		}
	})
	return base, cfg.Dir
}

var client = &http.Client{Timeout: 30 * time.Second}

// call sends a request and decodes a JSON answer into out (if not nil); it
// returns the status code.
func call(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

func TestProductPage(t *testing.T) {
	down := newDownstream(testDownstream())
	trace := &lockedBuffer{}
	base, _ := startShop(t, down, trace)
	defer client.CloseIdleConnections()

	want := ProductPage{
		Product: Product{ID: 2, Name: "Moka pot", PriceCents: 3500, Stock: 40},
		Reviews: []Review{{Author: "ana", Stars: 5, Text: "does the job"}, {Author: "bo", Stars: 5, Text: "would buy again"}},
		Offers:  []Offer{{Seller: "acme", PriceCents: 2040, ShipDays: 0}, {Seller: "globex", PriceCents: 2060, ShipDays: 2}},
		Partial: true,
		Missing: []string{"offer.initech"}, // slower than the page's deadline, every time
	}
	for _, path := range []string{"/products/2", "/errgroup/products/2"} {
		before := down.callsTo("globex")
		var page ProductPage
		if code := call(t, "GET", base+path, "", &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		if !reflect.DeepEqual(page, want) {
			t.Errorf("GET %s:\n got %+v\nwant %+v", path, page, want)
		}
		// globex fails every second request: the page got its offer by
		// retrying.
		if n := down.callsTo("globex") - before; n != 2 {
			t.Errorf("GET %s: %d requests to globex, want 2 (a failure, then the retry)", path, n)
		}
	}
	for _, path := range []string{"/products/99", "/errgroup/products/99"} {
		if code := call(t, "GET", base+path, "", nil); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	if code := call(t, "GET", base+"/products/x", "", nil); code != http.StatusBadRequest {
		t.Errorf("GET /products/x: %d, want 400", code)
	}

	// Every part of goasync's page is a span, a child of the request's.
	spans := trace.String()
	for _, name := range []string{`"Name":"GET /products/{id}"`, `"Name":"db.product"`, `"Name":"reviews"`, `"Name":"offer.globex"`} {
		if !strings.Contains(spans, name) {
			t.Errorf("no span %s in the trace output", name)
		}
	}
}

func TestOrderAndJobs(t *testing.T) {
	base, dir := startShop(t, newDownstream(testDownstream()), nil)
	defer client.CloseIdleConnections()

	var order OrderAccepted
	if code := call(t, "POST", base+"/orders", `{"product_id":1,"qty":2,"email":"ana@example.com"}`, &order); code != http.StatusCreated {
		t.Fatalf("POST /orders: %d", code)
	}
	if order.OrderID == 0 || order.EmailJob == "" {
		t.Fatalf("POST /orders: %+v, want an order id and a job id", order)
	}
	var st JobStatus
	if code := call(t, "GET", base+"/jobs/"+order.EmailJob+"?wait=10", "", &st); code != http.StatusOK || st.State != "done" || string(st.Result) != `{"sent":true}` {
		t.Fatalf("GET /jobs/%s: %d %+v, want done with {\"sent\":true}", order.EmailJob, code, st)
	}

	for _, c := range []struct {
		body string
		code int
	}{
		{`{"product_id":3,"qty":16,"email":"bo@example.com"}`, http.StatusConflict}, // 15 in stock
		{`{"product_id":77,"qty":1,"email":"bo@example.com"}`, http.StatusNotFound},
		{`{"product_id":1,"qty":1}`, http.StatusBadRequest},
		{`{"product_id":1,"qty":1,"email":"bo@example.com","admin":true}`, http.StatusBadRequest},
	} {
		if code := call(t, "POST", base+"/orders", c.body, nil); code != c.code {
			t.Errorf("POST /orders %s: %d, want %d", c.body, code, c.code)
		}
	}

	var thumb map[string]string
	if code := call(t, "POST", base+"/products/3/thumbnail?size=64", "", &thumb); code != http.StatusAccepted {
		t.Fatalf("POST /products/3/thumbnail: %d", code)
	}
	if code := call(t, "GET", base+"/jobs/"+thumb["job"]+"?wait=10", "", &st); code != http.StatusOK || st.State != "done" {
		t.Fatalf("GET /jobs/%s: %d %+v, want done", thumb["job"], code, st)
	}
	var done ThumbnailDone
	if err := json.Unmarshal(st.Result, &done); err != nil || done.Width != 64 || done.Height != 64 {
		t.Errorf("thumbnail job's result %s, want 64×64", st.Result)
	}
	var page ProductPage
	if call(t, "GET", base+"/products/3", "", &page); !page.Product.HasThumbnail {
		t.Errorf("product 3 after the thumbnail job: %+v, want has_thumbnail", page.Product)
	}
	// A bad size fails the job for good, and says so.
	if code := call(t, "POST", base+"/products/3/thumbnail?size=5000", "", &thumb); code != http.StatusAccepted {
		t.Fatalf("POST /products/3/thumbnail?size=5000: %d", code)
	}
	st = JobStatus{}
	if call(t, "GET", base+"/jobs/"+thumb["job"]+"?wait=10", "", &st); st.State != "failed" || !strings.Contains(st.Error, "out of 1..1024") {
		t.Errorf("job with a bad size: %+v, want failed", st)
	}
	if code := call(t, "GET", base+"/jobs/not..an-id", "", nil); code != http.StatusNotFound {
		t.Errorf("GET /jobs/not..an-id: %d, want 404", code)
	}

	// The database, read on its own.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "shop.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var (
		qty, stock int64
		rcpt       string
		pic        []byte
	)
	if err := db.QueryRow(`SELECT o.qty, p.stock FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = ?`, order.OrderID).Scan(&qty, &stock); err != nil || qty != 2 || stock != 98 {
		t.Errorf("order %d in the database: qty %d, stock %d, %v; want 2 and 98", order.OrderID, qty, stock, err)
	}
	if err := db.QueryRow(`SELECT rcpt FROM emails WHERE order_id = ?`, order.OrderID).Scan(&rcpt); err != nil || rcpt != "ana@example.com" {
		t.Errorf("email of order %d: %q, %v", order.OrderID, rcpt, err)
	}
	var orders int
	if err := db.QueryRow(`SELECT count(*) FROM orders`).Scan(&orders); err != nil || orders != 1 {
		t.Errorf("%d orders in the database (%v), want 1: refused orders must leave none", orders, err)
	}
	if err := db.QueryRow(`SELECT png FROM thumbnails WHERE product_id = 3`).Scan(&pic); err != nil {
		t.Fatalf("thumbnail of product 3: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(pic))
	if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
		t.Errorf("stored thumbnail: %v, %v; want a 64×64 PNG", img.Bounds(), err)
	}
}

func TestConsole(t *testing.T) {
	base, _ := startShop(t, newDownstream(testDownstream()), nil)
	defer client.CloseIdleConnections()
	resp, err := client.Get(base + "/debug/async/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("<html")) {
		t.Errorf("GET /debug/async/: %d, %.80q", resp.StatusCode, b)
	}
	var snap struct{ Tasks []any }
	if code := call(t, "GET", base+"/debug/async/api/tasks", "", &snap); code != http.StatusOK {
		t.Errorf("GET /debug/async/api/tasks: %d", code)
	}
}

func TestLoad(t *testing.T) {
	cfg := defaultConfig()
	cfg.Dir = t.TempDir()
	var out bytes.Buffer
	if err := runLoad(context.Background(), cfg, time.Second, 4, &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"goasync", "errgroup"} {
		var requests, rate, partial, failed int
		var p50, p99 string
		found := false
		for line := range strings.Lines(out.String()) {
			if f := strings.Fields(line); len(f) == 7 && f[0] == name {
				found = true
				if _, err := fmt.Sscan(strings.Join(f[1:], " "), &requests, &rate, &p50, &p99, &partial, &failed); err != nil {
					t.Fatalf("%s's line %q: %v", name, line, err)
				}
			}
		}
		if !found || requests == 0 || failed != 0 {
			t.Errorf("%s: found %v, %d requests, %d failed, in\n%s", name, found, requests, failed, out.String())
		}
	}
}
