package async

import (
	"bytes"
	"context"
	"errors"
	"math"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// byID finds a task by id in a snapshot.
func byID(tasks []TaskInfo, id uint64) *TaskInfo {
	for i := range tasks {
		if tasks[i].ID == id {
			return &tasks[i]
		}
	}
	return nil
}

// named returns every task named name in a snapshot.
func named(tasks []TaskInfo, name string) []TaskInfo {
	var out []TaskInfo
	for _, t := range tasks {
		if t.Name == name {
			out = append(out, t)
		}
	}
	return out
}

// Scope.Go children and Run's function are listed, under the task that
// started them, in their scope; what a child waits on in Sleep is charged
// to the child, not to the task that made the scope.
func TestScopeChildrenListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		release := make(chan struct{})
		outer := Go(bg, func(ctx context.Context) (int, error) {
			return 0, Run(ctx, func(s *Scope) error {
				s.Go(func(ctx context.Context) error { return Sleep(ctx, time.Hour) })
				s.Go(func(ctx context.Context) error { <-release; s.Cancel(); return nil })
				return nil
			}, Name("crawl"))
		}, Name("outer"))
		synctest.Wait()
		ts := Tasks()
		o := byName(t, ts, "outer")
		crawl := named(ts, "crawl")
		if len(crawl) != 3 {
			t.Fatalf("%d tasks named crawl (Run's function and two children); want 3: %+v", len(crawl), ts)
		}
		run := crawl[0] // the first made
		if run.Parent != o.ID || run.State != TaskDone || run.Group != `scope "crawl"` {
			t.Errorf("Run's function %+v; want done, under outer, in scope \"crawl\"", run)
		}
		sleeper, waiter := crawl[1], crawl[2]
		for _, c := range []TaskInfo{sleeper, waiter} {
			if c.Parent != run.ID || c.Group != `scope "crawl"` || !strings.Contains(c.Spawn, "TestScopeChildrenListed") {
				t.Errorf("child %+v; want under Run's function (#%d), in scope \"crawl\", started in this test", c, run.ID)
			}
		}
		if sleeper.State != TaskBlocked || sleeper.Waiting != "Sleep 1h0m0s" {
			t.Errorf("sleeping child: %v waiting %q; want blocked in Sleep 1h0m0s", sleeper.State, sleeper.Waiting)
		}
		if waiter.State != TaskRunning {
			t.Errorf("child on a channel: %v; want running (a channel is not the library's to see)", waiter.State)
		}
		if o.State != TaskBlocked || o.Waiting != `Scope.Wait "crawl"` {
			t.Errorf("outer: %v waiting %q; want blocked in Scope.Wait \"crawl\"", o.State, o.Waiting)
		}
		var dump bytes.Buffer
		Dump(&dump)
		if !strings.Contains(dump.String(), `"crawl" blocked 0s in Sleep 1h0m0s for 0s`) {
			t.Errorf("Dump does not show the child in Sleep:\n%s", dump.String())
		}
		close(release)
		outer.Await(bg)
		synctest.Wait()
		for _, c := range named(Tasks(), "crawl")[1:] {
			if c.State != TaskDone && c.State != TaskFailed {
				t.Errorf("child %+v still live after the scope ended", c)
			}
		}
	})
}

// A limited scope's children wait as pending; TryGo that finds no room
// leaves nothing listed; a child dropped because the scope ended is
// settled.
func TestLimitedScopeChildrenListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		release := make(chan struct{})
		s := NewScope(bg, Limit(1), Name("lim"))
		s.Go(func(ctx context.Context) error { <-release; return nil })
		s.Go(func(ctx context.Context) error { return nil })
		synctest.Wait()
		if s.TryGo(func(ctx context.Context) error { return nil }) {
			t.Fatal("TryGo found room in a full scope")
		}
		ts := named(Tasks(), "lim")
		if len(ts) != 2 || ts[0].State != TaskRunning || ts[1].State != TaskPending {
			t.Fatalf("children %+v; want one running, one pending, and no entry for the refused TryGo", ts)
		}
		s.Cancel()
		close(release)
		s.Wait()
		for _, c := range named(Tasks(), "lim") {
			if c.State != TaskDone && c.State != TaskFailed {
				t.Errorf("child %+v still live after Wait", c)
			}
		}
	})
}

// Pool.Go tasks are listed in their pool, pending while queued; a Submit
// that waits for room in the queue is blocked on the full pool.
func TestPoolTasksListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		release := make(chan struct{})
		p := NewPool(1, Backlog(1), Name("resizer"))
		p.Go(bg, func(ctx context.Context) error { <-release; return nil })
		p.Go(bg, func(ctx context.Context) error { return Sleep(ctx, time.Minute) })
		submitter := Go(bg, func(ctx context.Context) (int, error) {
			return Submit(ctx, p, func(context.Context) (int, error) { return 1, nil }).Await(ctx)
		}, Name("submitter"))
		synctest.Wait()
		ts := Tasks()
		gos := named(ts, "resizer")
		if len(gos) != 3 || gos[0].State != TaskRunning || gos[1].State != TaskPending || gos[0].Group != `pool "resizer"` {
			t.Fatalf("pool tasks %+v; want a running and a pending Pool.Go task, and the Submit's, in pool \"resizer\"", gos)
		}
		if s := byName(t, ts, "submitter"); s.State != TaskBlocked || s.Waiting != `full pool "resizer"` {
			t.Errorf("submitter %v waiting %q; want blocked on the full pool", s.State, s.Waiting)
		}
		close(release)
		synctest.Wait()
		if g := byID(Tasks(), gos[1].ID); g.State != TaskBlocked || g.Waiting != "Sleep 1m0s" {
			t.Errorf("second Pool.Go task %+v; want blocked in its Sleep", g)
		}
		submitter.Await(bg)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		for _, g := range named(Tasks(), "resizer") {
			if g.State != TaskDone {
				t.Errorf("pool task %+v; want done", g)
			}
		}
	})
}

// Each Map and ForEach call is listed under the task that called Map.
func TestMapCallsListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		release := make(chan struct{})
		caller := Go(bg, func(ctx context.Context) (int, error) {
			_, err := Map(ctx, []int{1, 2, 3}, func(ctx context.Context, i int) (int, error) {
				if i == 3 {
					return 0, ForEach(ctx, []int{1}, func(ctx context.Context, _ int) error { return Sleep(ctx, time.Second) })
				}
				<-release
				return i, nil
			}, Limit(3))
			return 0, err
		}, Name("caller"))
		synctest.Wait()
		ts := Tasks()
		c := byName(t, ts, "caller")
		calls := named(ts, "Map")
		if len(calls) != 3 {
			t.Fatalf("%d Map calls listed; want 3: %+v", len(calls), ts)
		}
		for _, m := range calls {
			if m.Parent != c.ID || !strings.Contains(m.Spawn, "TestMapCallsListed") {
				t.Errorf("Map call %+v; want under caller (#%d), started in this test", m, c.ID)
			}
		}
		fe := named(ts, "ForEach")
		if len(fe) != 1 || fe[0].State != TaskBlocked || fe[0].Waiting != "Sleep 1s" || byID(ts, fe[0].Parent).Name != "Map" {
			t.Errorf("ForEach calls %+v; want one, blocked in Sleep 1s, under a Map call", fe)
		}
		close(release)
		caller.Await(bg)
	})
}

// A task waiting out Retry's backoff is blocked on it.
func TestBlockedInRetryBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		f := Go(bg, func(ctx context.Context) (int, error) {
			return Retry(ctx, func(context.Context) (int, error) { return 0, errors.New("flaky") },
				Attempts(2), Backoff(time.Minute, time.Minute))
		}, Name("retrier"))
		synctest.Wait()
		ti := byName(t, Tasks(), "retrier")
		if ti.State != TaskBlocked || !strings.HasPrefix(ti.Waiting, "Retry backoff ") {
			t.Errorf("retrier: %v waiting %q; want blocked in Retry backoff", ti.State, ti.Waiting)
		}
		f.Await(bg)
	})
}

// Queue, Event, Lazy: a task waiting in them is blocked, on them.
func TestBlockedOnPrimitives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		q := NewQueue[int](1)
		q.Put(bg, 0) // full
		empty := NewQueue[int](1)
		var ev Event
		start := make(chan struct{})
		lazy := NewLazy(func(ctx context.Context) (int, error) { <-start; return 1, nil })
		fs := []*Future[int]{
			Go(bg, func(ctx context.Context) (int, error) { return 0, q.Put(ctx, 1) }, Name("putter")),
			Go(bg, func(ctx context.Context) (int, error) { return empty.Get(ctx) }, Name("getter")),
			Go(bg, func(ctx context.Context) (int, error) { return 0, ev.Wait(ctx) }, Name("event-waiter")),
			Go(bg, func(ctx context.Context) (int, error) { return lazy.Get(ctx) }, Name("lazy-getter")),
		}
		synctest.Wait()
		ts := Tasks()
		for name, want := range map[string]string{"putter": "Queue.Put", "getter": "Queue.Get", "event-waiter": "Event.Wait", "lazy-getter": "Lazy.Get"} {
			if ti := byName(t, ts, name); ti.State != TaskBlocked || ti.Waiting != want {
				t.Errorf("%s: %v waiting %q; want blocked in %s", name, ti.State, ti.Waiting, want)
			}
		}
		q.Get(bg)
		empty.Put(bg, 1)
		ev.Set()
		close(start)
		for _, f := range fs {
			if _, err := f.Await(bg); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		for _, name := range []string{"putter", "getter", "event-waiter", "lazy-getter"} {
			if ti := byName(t, Tasks(), name); ti.State != TaskDone || ti.Waiting != "" {
				t.Errorf("%s after its wait: %+v", name, ti)
			}
		}
	})
}

// A promise's future is listed with its name, as pending, then as blocked
// on what Awaits says, until it settles.
func TestPromiseAwaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		p := NewPromise[int](Name("remote-resize"))
		if ti := byName(t, Tasks(), "remote-resize"); ti.State != TaskPending || !strings.Contains(ti.Spawn, "TestPromiseAwaits") {
			t.Errorf("new promise %+v; want pending, made in this test", ti)
		}
		p.Awaits("a remote worker")
		p.Awaits(`remote worker "w-3"`)
		time.Sleep(time.Second)
		ti := byName(t, Tasks(), "remote-resize")
		if ti.State != TaskBlocked || ti.Waiting != `remote worker "w-3"` || ti.Blocked != time.Second {
			t.Errorf("promise after Awaits: %+v; want blocked on remote worker \"w-3\" for 1s", ti)
		}
		p.Awaits("")
		if ti := byName(t, Tasks(), "remote-resize"); ti.State != TaskPending {
			t.Errorf("promise after Awaits(\"\"): %v; want pending", ti.State)
		}
		p.Awaits("again")
		p.Resolve(1)
		if ti := byName(t, Tasks(), "remote-resize"); ti.State != TaskDone || ti.Waiting != "" {
			t.Errorf("settled promise %+v; want done", ti)
		}
	})
}

//go:noinline
func dropScopeWithFailure(failed chan<- struct{}) {
	s := NewScope(bg, Name("forgotten"))
	s.Go(func(context.Context) error { defer close(failed); return errors.New("disk full") })
	s.Go(func(context.Context) error { panic("boom") })
}

// A scope garbage-collected without Wait reports its children's failures,
// panics included, as unobserved; a scope that was waited for does not.
func TestScopeWithoutWaitReportsFailures(t *testing.T) {
	ch := collect(t)
	failed := make(chan struct{})
	dropScopeWithFailure(failed)
	<-failed
	u := waitReport(t, ch)
	for u.Task != "forgotten" { // garbage of earlier tests may be reported first
		u = waitReport(t, ch)
	}
	var agg *AggregateError
	if u.Task != "forgotten" || !errors.As(u.Err, &agg) || len(agg.Errors) != 2 {
		t.Fatalf("report %+v; want scope \"forgotten\" with its two failures", u)
	}
	var pe *PanicError
	if !strings.Contains(u.Err.Error(), "disk full") || !errors.As(u.Err, &pe) {
		t.Errorf("report's error %v; want the error and the panic", u.Err)
	}

	func() {
		s := NewScope(bg)
		s.Go(func(context.Context) error { return errors.New("seen") })
		if s.Wait() == nil {
			t.Error("Wait returned nil")
		}
	}()
	// A report made now would be the waited scope's: collect twice over
	// with a marker failure after it, which must be the next report.
	for range 3 {
		runtime.GC()
	}
	dropFailed(errors.New("marker"))
	for {
		u := waitReport(t, ch)
		if strings.Contains(u.Err.Error(), "seen") {
			t.Errorf("a scope that was waited for was reported: %+v", u)
		}
		if strings.Contains(u.Err.Error(), "marker") {
			break
		}
	}
}

// SlowTask: after the warning, a second report when the task gives the
// loop back, with the real hold (to within an eighth of the threshold).
func TestSlowTaskEndReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		output := logTo(t, nil)
		err := RunLoop(bg, func(ctx context.Context) error {
			Go(ctx, func(ctx context.Context) (int, error) {
				time.Sleep(500 * time.Millisecond) // blocks the loop
				return 0, nil
			}, Name("hog"))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out := output()
		if strings.Count(out, "held the event loop too long") != 1 || !strings.Contains(out, "held=100ms") {
			t.Fatalf("first report missing:\n%s", out)
		}
		i := strings.Index(out, "gave the event loop back")
		if i < 0 || strings.Count(out, "gave the event loop back") != 1 {
			t.Fatalf("want one report of the hold's end:\n%s", out)
		}
		end := out[i:]
		m := regexp.MustCompile(`held=(\S+) precision=(\S+) task=hog`).FindStringSubmatch(end)
		if m == nil {
			t.Fatalf("end report %q; want held, precision and task=hog", end)
		}
		held, _ := time.ParseDuration(m[1])
		precision, _ := time.ParseDuration(m[2])
		if precision != 12500*time.Microsecond || held < 500*time.Millisecond-precision || held > 500*time.Millisecond+precision {
			t.Errorf("end report %q; want the 500ms hold within 12.5ms", end)
		}
	})
}

// TaskStats counts tasks by name, with their failure rate and duration
// percentiles.
func TestTaskStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(false))
		SetDebug(false)
		if TaskStats() != nil {
			t.Fatal("TaskStats with debug mode off is not nil")
		}
		SetDebug(true) // a fresh count
		release := make(chan struct{})
		live := Go(bg, func(context.Context) (int, error) { <-release; return 0, nil }, Name("fetch"))
		var fs []*Future[int]
		for i := 1; i <= 100; i++ {
			fs = append(fs, Go(bg, func(ctx context.Context) (int, error) {
				if err := Sleep(ctx, time.Duration(i)*time.Millisecond); err != nil {
					return 0, err
				}
				if i%10 == 0 {
					return 0, errors.New("timeout")
				}
				return i, nil
			}, Name("fetch")))
		}
		AllSettled(bg, fs...)
		Go(bg, func(context.Context) (int, error) { return 0, nil }).Await(bg)
		synctest.Wait()
		st := TaskStats()
		if len(st) != 2 || st[0].Name != "" || st[1].Name != "fetch" {
			t.Fatalf("stats %+v; want the unnamed task and fetch", st)
		}
		f := st[1]
		if f.Live != 1 || f.Settled != 100 || f.Failed != 10 || f.FailureRate() != 0.1 {
			t.Errorf("fetch: %+v; want 1 live, 100 settled, 10 failed", f)
		}
		near := func(got, want time.Duration) bool { return math.Abs(float64(got-want)) <= 0.03*float64(want) }
		if !near(f.P50, 50*time.Millisecond) || !near(f.P99, 99*time.Millisecond) {
			t.Errorf("fetch p50 %v, p99 %v; want 50ms and 99ms within 3%%", f.P50, f.P99)
		}
		close(release)
		live.Await(bg)
	})
}

// A task remembers its last waits, for the console's timeline.
func TestTaskWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		f := Go(bg, func(ctx context.Context) (int, error) {
			for range 10 {
				if err := Sleep(ctx, time.Second); err != nil {
					return 0, err
				}
			}
			return 0, nil
		}, Name("sleeper"))
		f.Await(bg)
		ti := byName(t, Tasks(), "sleeper")
		if len(ti.Waits) != 8 {
			t.Fatalf("%d waits remembered; want the last 8", len(ti.Waits))
		}
		w := ti.Waits[7]
		if w.What != "Sleep 1s" || w.Duration != time.Second || !w.Start.Equal(ti.Started.Add(9*time.Second)) {
			t.Errorf("last wait %+v; want Sleep 1s for 1s, 9s after the start", w)
		}
	})
}

// Dump prints five or more same-name siblings as one line, their children
// together under it; fewer stay one line each.
func TestDumpGroupsSiblings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		release := make(chan struct{})
		parent := Go(bg, func(ctx context.Context) (int, error) {
			var fs []*Future[int]
			for range 20 {
				fs = append(fs, Go(ctx, func(ctx context.Context) (int, error) {
					return Go(ctx, func(context.Context) (int, error) { <-release; return 0, nil }, Name("io")).Await(ctx)
				}, Name("thumb")))
			}
			for range 2 {
				fs = append(fs, Go(ctx, func(context.Context) (int, error) { <-release; return 0, nil }, Name("pair")))
			}
			_, err := All(ctx, fs...)
			return 0, err
		}, Name("request"))
		synctest.Wait()
		var b bytes.Buffer
		Dump(&b)
		out := b.String()
		for _, want := range []string{`"thumb" ×20 (#`, `): 20 blocked`, `"io" ×20 (#`, `): 20 running`} {
			if !strings.Contains(out, want) {
				t.Errorf("Dump lacks %q:\n%s", want, out)
			}
		}
		if strings.Count(out, `"pair" running`) != 2 || strings.Count(out, "\n") != 6 {
			t.Errorf("want request, the thumb group, the io group and two pair lines after the summary:\n%s", out)
		}
		close(release)
		parent.Await(bg)
	})
}
