package console

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goasync/async"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scene starts a blocked parent with a running child, an await cycle and a
// pool with a queued task; stop ends them all.
func scene(t *testing.T) (stop func()) {
	t.Helper()
	prev := async.SetDebug(true)
	ctx := context.Background()
	release := make(chan struct{})
	parent := async.Go(ctx, func(ctx context.Context) (int, error) {
		return async.Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil }, async.Name("child")).Await(ctx)
	}, async.Name("parent"))
	var b *async.Future[int]
	ready := make(chan struct{})
	a := async.Go(ctx, func(ctx context.Context) (int, error) { <-ready; return b.Await(ctx) }, async.Name("cycle-a"))
	b = async.Go(ctx, func(ctx context.Context) (int, error) { return a.Await(ctx) }, async.Name("cycle-b"))
	close(ready)
	p := async.NewPool(1, async.Name("console-pool"))
	busy := async.Submit(ctx, p, func(context.Context) (int, error) { <-release; return 1, nil })
	queued := async.Submit(ctx, p, func(context.Context) (int, error) { return 2, nil })
	return func() {
		close(release)
		a.Cancel()
		b.Await(ctx)
		parent.Await(ctx)
		busy.Await(ctx)
		queued.Await(ctx)
		p.Close()
		async.SetDebug(prev)
	}
}

// take returns a snapshot of the tasks and pools now, through the JSON the
// console serves.
func take() Snapshot {
	var s Snapshot
	if err := json.Unmarshal(appendSnapshot(nil, time.Now(), baseInterval, async.Tasks(), async.Pools(), async.TaskStats()), &s); err != nil {
		panic(err)
	}
	return s
}

// waitFor polls the snapshot until cond holds: tasks reach their states on
// their own goroutines.
func waitFor(t *testing.T, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	for i := 0; ; i++ {
		s := take()
		if cond(s) {
			return s
		}
		if i > 1_000_000 {
			t.Fatalf("condition never held; last snapshot %+v", s)
		}
		runtime.Gosched()
	}
}

func byName(s Snapshot, name string) *Task {
	for i := range s.Tasks {
		if s.Tasks[i].Name == name {
			return &s.Tasks[i]
		}
	}
	return nil
}

func TestSnapshot(t *testing.T) {
	stop := scene(t)
	defer stop()
	s := waitFor(t, func(s Snapshot) bool {
		p, a := byName(s, "parent"), byName(s, "cycle-a")
		return p != nil && p.State == async.TaskBlocked && a != nil && a.InCycle
	})
	if !s.Debug {
		t.Error("Debug is false in debug mode")
	}
	p, c := byName(s, "parent"), byName(s, "child")
	if c == nil || c.Parent != p.ID || len(p.Awaiting) != 1 || p.Awaiting[0] != c.ID {
		t.Errorf("parent %+v, child %+v: want child under parent, parent awaiting it", p, c)
	}
	if sp := p.Spawn; !strings.Contains(sp, "console.scene") {
		t.Errorf("spawn site %q; want console.scene", sp)
	}
	a, b := byName(s, "cycle-a"), byName(s, "cycle-b")
	if len(s.Cycles) != 1 || !b.InCycle || p.InCycle {
		t.Errorf("cycles %v, a %v, b %v, parent %v", s.Cycles, a.InCycle, b.InCycle, p.InCycle)
	}
	found := false
	for _, pl := range s.Pools {
		found = found || pl.Name == "console-pool"
	}
	if !found {
		t.Errorf("pools %+v lack console-pool", s.Pools)
	}
}

func TestHandlerServesPageAndJSON(t *testing.T) {
	stop := scene(t)
	defer stop()
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	res, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "goasync console") {
		t.Fatalf("page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if ext := regexp.MustCompile(`(src|href)="(https?:)?//`).FindString(string(body)); ext != "" {
		t.Errorf("the page loads an external resource: %s", ext)
	}

	res, err = srv.Client().Get(srv.URL + "/api/tasks")
	if err != nil {
		t.Fatal(err)
	}
	var s Snapshot
	err = json.NewDecoder(res.Body).Decode(&s)
	res.Body.Close()
	if err != nil || byName(s, "parent") == nil {
		t.Fatalf("api/tasks: %v, %+v", err, s)
	}
	res, err = srv.Client().Get(srv.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("unknown path: %d; want 404", res.StatusCode)
	}
}

// The event stream sends snapshots and ends when its client goes away.
func TestEventStream(t *testing.T) {
	stop := scene(t)
	defer stop()
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // before srv.Close, which waits for the stream to end
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/events", nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	r := bufio.NewReader(res.Body)
	for events := 0; events < 2; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var s Snapshot
			if err := json.Unmarshal([]byte(data), &s); err != nil {
				t.Fatalf("event data: %v", err)
			}
			events++
		}
	}
	cancel()
	res.Body.Close()
	srv.Close() // waits for the handler to return
}
