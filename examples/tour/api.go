package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/goasync/async"
)

// The simulated API: every /item/N answers after latency; item 7 is broken
// (503), /slow takes longer, /panic's handler runs a task that panics.
const (
	latency    = 100 * time.Millisecond
	brokenItem = 7
)

type item struct {
	ID    int     `json:"id"`
	Price float64 `json:"price"`
}

func newAPI() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		if async.Sleep(r.Context(), latency) != nil {
			return
		}
		if id == brokenItem {
			http.Error(w, "inventory service unavailable", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(item{ID: id, Price: float64(id) * 1.5})
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		if async.Sleep(r.Context(), 3*latency) != nil {
			return
		}
		json.NewEncoder(w).Encode(item{ID: -1, Price: 99})
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		// The handler's work runs as a task; its panic becomes an error here
		// instead of killing the server.
		f := async.Go(r.Context(), func(ctx context.Context) (int, error) {
			discounts := []int{}
			return discounts[len(r.URL.Path)], nil // a bug: indexes past the end
		}, async.Name("discounts"))
		if _, err := f.Await(r.Context()); err != nil {
			http.Error(w, "internal error: "+firstLine(err.Error()), http.StatusInternalServerError)
			return
		}
	})
	return httptest.NewServer(mux)
}

// HTTPError is what fetch returns for a non-200 answer.
type HTTPError struct {
	URL    string
	Status int
	Body   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("GET %s: %d %s", e.URL, e.Status, e.Body) }

// client fetches items from the simulated API.
type client struct {
	base string
	http *http.Client
}

func (c *client) get(ctx context.Context, path string) (item, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return item{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return item{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return item{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return item{}, &HTTPError{URL: path, Status: resp.StatusCode, Body: string(trim(body))}
	}
	var it item
	return it, json.Unmarshal(body, &it)
}

func (c *client) item(ctx context.Context, id int) (item, error) {
	return c.get(ctx, "/item/"+strconv.Itoa(id))
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

func firstLine(s string) string {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
