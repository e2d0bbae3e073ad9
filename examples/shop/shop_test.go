package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers of the tests: the service on loopback, and HTTP calls to it.

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
	base, dir, stop := startShopStoppable(t, down, trace)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run after shutdown: %v", err)
		}
	})
	return base, dir
}

// startShopStoppable runs the service on loopback against down; stop shuts
// it down and returns run's result.
func startShopStoppable(t *testing.T, down *downstream, trace io.Writer) (base, dir string, stop func() error) {
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
	cfg.MailDelay = 200 * time.Millisecond // jobs still running when a test stops the shop
	cfg.Debug = true
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})) // shown when a test fails
	ready := make(chan string, 1)
	cfg.Ready = func(url string) { ready <- url }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg) }()
	select {
	case base = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	}
	return base, cfg.Dir, func() error {
		cancel()
		return <-done
	}
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
