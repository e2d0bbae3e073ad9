package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// streamRecorder is a ResponseWriter for an event stream that keeps every
// write as it was given (not copied), so that a test can tell whether
// clients were sent the same bytes.
type streamRecorder struct {
	h      http.Header
	mu     sync.Mutex
	code   int
	writes [][]byte
}

func newStreamRecorder() *streamRecorder { return &streamRecorder{h: http.Header{}} }

func (r *streamRecorder) Header() http.Header { return r.h }
func (r *streamRecorder) WriteHeader(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.code == 0 {
		r.code = code
	}
}
func (r *streamRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, b)
	return len(b), nil
}
func (r *streamRecorder) Flush() {}

func (r *streamRecorder) status() (int, [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code, append([][]byte(nil), r.writes...)
}

// stream serves /api/events to a new client until the returned function is
// called.
func stream(h http.Handler) (*streamRecorder, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	rec := newStreamRecorder()
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/events", nil)
	req.Host = "127.0.0.1:6060"
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, req)
	}()
	return rec, func() { cancel(); <-done }
}

// Twenty streams share one snapshot per interval: the snapshot is taken
// once, and every client is sent the very same bytes.
func TestStreamsShareSnapshots(t *testing.T) {
	stop := scene(t)
	defer stop()
	synctest.Test(t, func(t *testing.T) {
		h := Handler(MaxStreams(20)).(*handler)
		var recs []*streamRecorder
		var ends []func()
		for range 20 {
			rec, end := stream(h)
			recs, ends = append(recs, rec), append(ends, end)
		}
		synctest.Wait()
		time.Sleep(10 * baseInterval) // on the bubble's clock
		synctest.Wait()
		for _, end := range ends {
			end()
		}
		h.hub.mu.Lock()
		taken := h.hub.seq
		h.hub.mu.Unlock()
		if taken != 11 {
			t.Errorf("%d snapshots taken in 10 intervals for 20 streams; want 11 (one at the start, one per interval)", taken)
		}
		_, first := recs[0].status()
		if len(first) != 11 {
			t.Fatalf("the first stream got %d snapshots; want 11", len(first))
		}
		for i, rec := range recs {
			code, ws := rec.status()
			if code != 200 || len(ws) != len(first) {
				t.Fatalf("stream %d: status %d, %d snapshots; want 200 and %d", i, code, len(ws), len(first))
			}
			for j := range ws {
				if &ws[j][0] != &first[j][0] {
					t.Fatalf("stream %d, snapshot %d: not the bytes the first stream was sent (a copy or another snapshot)", i, j)
				}
			}
		}
	})
}

// Beyond MaxStreams a stream is refused with 503 and a Retry-After; when a
// stream ends, a new one is served again.
func TestStreamCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := Handler(MaxStreams(2))
		_, end1 := stream(h)
		_, end2 := stream(h)
		synctest.Wait()
		refused, end3 := stream(h)
		synctest.Wait()
		end3()
		if code, _ := refused.status(); code != http.StatusServiceUnavailable || refused.h.Get("Retry-After") == "" {
			t.Errorf("third stream: %d, Retry-After %q; want 503 with Retry-After", code, refused.h.Get("Retry-After"))
		}
		end1()
		again, end4 := stream(h)
		synctest.Wait()
		end4()
		end2()
		if code, _ := again.status(); code != http.StatusOK {
			t.Errorf("a stream after one ended: %d; want 200", code)
		}
	})
}

// Polling /api/tasks is served from the same snapshot within an interval.
func TestPollingSharesSnapshots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := Handler().(*handler)
		get := func() {
			req := httptest.NewRequest("GET", "/api/tasks", nil)
			req.Host = "localhost"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				t.Fatalf("api/tasks: %d", w.Code)
			}
		}
		for range 100 {
			get()
		}
		time.Sleep(baseInterval)
		get()
		if h.hub.seq != 2 {
			t.Errorf("%d snapshots for 101 polls over one interval; want 2", h.hub.seq)
		}
	})
}
