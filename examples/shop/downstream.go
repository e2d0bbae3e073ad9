package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The downstream service: reviews of a product and sellers' offers for it,
// over HTTP. The shop runs one on loopback (a real server, with the latency
// and failures below) unless -downstream names another.

// Review is one customer review.
type Review struct {
	Author string `json:"author"`
	Stars  int    `json:"stars"`
	Text   string `json:"text"`
}

// Offer is a seller's price for a product.
type Offer struct {
	Seller     string `json:"seller"`
	PriceCents int64  `json:"price_cents"`
	ShipDays   int    `json:"ship_days"`
}

// behavior says how one downstream endpoint misbehaves: every FailEvery-th
// request answers 503, every SlowEvery-th takes Slow (0: never).
type behavior struct {
	FailEvery int
	SlowEvery int
	Slow      time.Duration
}

// downstreamConfig is the downstream service's behavior: a base latency
// plus up to Jitter more, and per endpoint ("reviews" or a seller's name)
// its failures.
type downstreamConfig struct {
	Latency time.Duration
	Jitter  time.Duration
	Sellers []string
	Faults  map[string]behavior
}

// testDownstream is deterministic: no latency, every second request to
// globex fails (a retry mends it), initech always answers after the
// deadline (its offer is missing).
func testDownstream() downstreamConfig {
	return downstreamConfig{
		Sellers: []string{"acme", "globex", "initech"},
		Faults: map[string]behavior{
			"globex":  {FailEvery: 2},
			"initech": {SlowEvery: 1, Slow: 5 * time.Second},
		},
	}
}

// loadDownstream is what the load generator runs against: 5–25 ms per
// call, one call in 20 to globex fails, one in 25 to initech is slower than
// the page's deadline, one in 50 to reviews fails.
func loadDownstream() downstreamConfig {
	return downstreamConfig{
		Latency: 5 * time.Millisecond,
		Jitter:  20 * time.Millisecond,
		Sellers: []string{"acme", "globex", "initech"},
		Faults: map[string]behavior{
			"reviews": {FailEvery: 50},
			"globex":  {FailEvery: 20},
			"initech": {SlowEvery: 25, Slow: 400 * time.Millisecond},
		},
	}
}

// downstream serves GET /reviews/{id} and GET /offers/{seller}/{id}.
type downstream struct {
	cfg   downstreamConfig
	mu    sync.Mutex
	calls map[string]int // requests per endpoint
}

func newDownstream(cfg downstreamConfig) *downstream {
	return &downstream{cfg: cfg, calls: map[string]int{}}
}

func (d *downstream) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reviews/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		if !d.behave(w, r, "reviews") {
			return
		}
		writeJSON(w, http.StatusOK, []Review{
			{Author: "ana", Stars: int(3 + id%3), Text: "does the job"},
			{Author: "bo", Stars: 5, Text: "would buy again"},
		})
	})
	mux.HandleFunc("GET /offers/{seller}/{id}", func(w http.ResponseWriter, r *http.Request) {
		seller := r.PathValue("seller")
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		if !d.behave(w, r, seller) {
			return
		}
		writeJSON(w, http.StatusOK, Offer{Seller: seller, PriceCents: 1000*id + int64(len(seller))*10, ShipDays: len(seller) % 4})
	})
	return mux
}

// behave waits the endpoint's latency and reports whether to answer; it
// answers 503 itself for a failure, and gives up if the caller has gone.
func (d *downstream) behave(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	d.mu.Lock()
	d.calls[endpoint]++
	n := d.calls[endpoint]
	d.mu.Unlock()
	b := d.cfg.Faults[endpoint]
	delay := d.cfg.Latency
	if d.cfg.Jitter > 0 {
		delay += rand.N(d.cfg.Jitter)
	}
	if b.SlowEvery > 0 && n%b.SlowEvery == 0 {
		delay = b.Slow
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		}
	}
	if b.FailEvery > 0 && n%b.FailEvery == 1%b.FailEvery {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return false
	}
	return true
}

// callsTo returns how many requests an endpoint has had.
func (d *downstream) callsTo(endpoint string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[endpoint]
}

// statusError is a downstream answer other than 200.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("downstream answered %d", e.code) }

// temporary reports whether a retry may succeed.
func (e *statusError) temporary() bool { return e.code >= 500 || e.code == http.StatusTooManyRequests }

// getJSON GETs url and decodes its JSON answer into a T.
func getJSON[T any](ctx context.Context, c *http.Client, url string) (T, error) {
	var v T
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return v, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, &statusError{resp.StatusCode}
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	return v, err
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
