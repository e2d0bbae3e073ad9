package async

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// byName finds the newest task named name in a snapshot.
func byName(t *testing.T, tasks []TaskInfo, name string) TaskInfo {
	t.Helper()
	for i := len(tasks) - 1; i >= 0; i-- {
		if tasks[i].Name == name {
			return tasks[i]
		}
	}
	t.Fatalf("no task %q in %+v", name, tasks)
	return TaskInfo{}
}

func TestTasksNilWhenDebugOff(t *testing.T) {
	defer SetDebug(SetDebug(false))
	if ts := Tasks(); ts != nil {
		t.Fatalf("Tasks() = %v with debug mode off; want nil", ts)
	}
}

// A parent blocked on a running child: states, the parent link, the await
// edge, durations on the bubble's clock, and the spawn site; then both
// settle and are reported done.
func TestTasksStatesAndAwaitEdges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		release := make(chan struct{})
		parent := Go(bg, func(ctx context.Context) (int, error) {
			child := Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil }, Name("reg-child"))
			return child.Await(ctx)
		}, Name("reg-parent"))
		synctest.Wait()
		time.Sleep(2 * time.Second)

		ts := Tasks()
		p, c := byName(t, ts, "reg-parent"), byName(t, ts, "reg-child")
		if p.State != TaskBlocked || c.State != TaskRunning {
			t.Fatalf("states: parent %v, child %v; want blocked, running", p.State, c.State)
		}
		if c.Parent != p.ID || p.Parent != 0 {
			t.Errorf("child.Parent = %d, parent.Parent = %d; want %d, 0", c.Parent, p.Parent, p.ID)
		}
		if len(p.Awaiting) != 1 || p.Awaiting[0] != c.ID {
			t.Errorf("parent awaits %v; want [%d]", p.Awaiting, c.ID)
		}
		if p.Blocked != 2*time.Second || p.Duration != 2*time.Second {
			t.Errorf("parent blocked %v, age %v; want 2s, 2s", p.Blocked, p.Duration)
		}
		if !strings.Contains(p.Spawn, "TestTasksStatesAndAwaitEdges") || !strings.Contains(p.Spawn, "registry_test.go:") {
			t.Errorf("parent spawn site %q; want this test's line", p.Spawn)
		}

		close(release)
		if _, err := parent.Await(bg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		ts = Tasks()
		p, c = byName(t, ts, "reg-parent"), byName(t, ts, "reg-child")
		if p.State != TaskDone || c.State != TaskDone || p.Duration != 2*time.Second {
			t.Fatalf("after settling: parent %v (%v), child %v; want done (2s), done", p.State, p.Duration, c.State)
		}
	})
}

func TestTasksFailedPendingAndGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		boom := errors.New("boom")
		if _, err := Go(bg, failing[int](boom), Name("reg-failed")).Await(bg); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		p := NewPool(1, Name("reg-pool"))
		release := make(chan struct{})
		busy := Submit(bg, p, func(context.Context) (int, error) { <-release; return 1, nil })
		queued := Submit(bg, p, value(2))
		var spawned *Future[int]
		s := NewScope(bg, Name("reg-scope"))
		spawned = Spawn(s, func(context.Context) (int, error) { <-release; return 3, nil })
		synctest.Wait()

		ts := Tasks()
		f := byName(t, ts, "reg-failed")
		if f.State != TaskFailed || !errors.Is(f.Err, boom) {
			t.Errorf("failed task: %v, %v; want failed, boom", f.State, f.Err)
		}
		var sawBusy, sawQueued, sawSpawned bool
		for _, ti := range ts {
			switch {
			case ti.ID == dbgOf(&busy.t).id:
				sawBusy = ti.State == TaskRunning && ti.Group == `pool "reg-pool"`
			case ti.ID == dbgOf(&queued.t).id:
				sawQueued = ti.State == TaskPending && ti.Group == `pool "reg-pool"`
			case ti.ID == dbgOf(&spawned.t).id:
				sawSpawned = ti.State == TaskRunning && ti.Group == `scope "reg-scope"`
			}
		}
		if !sawBusy || !sawQueued || !sawSpawned {
			t.Errorf("pool running %v, pool queued %v, scope running %v; want all true in %+v", sawBusy, sawQueued, sawSpawned, ts)
		}
		found := false
		for _, pi := range Pools() {
			if pi.Name == "reg-pool" {
				found = pi.Stats.Running == 1 && pi.Stats.Queued == 1
			}
		}
		if !found {
			t.Errorf("Pools() = %+v; want reg-pool with 1 running, 1 queued", Pools())
		}
		close(release)
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// That settled tasks leave the registry (so a failed future nobody observed
// is still collected and reported in debug mode) is tested by
// TestUnobservedReportHasSpawnSiteInDebugMode.

func TestTaskStateString(t *testing.T) {
	for s, want := range map[TaskState]string{TaskPending: "pending", TaskRunning: "running", TaskBlocked: "blocked",
		TaskDone: "done", TaskFailed: "failed", TaskState(9): "TaskState(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q; want %q", s, got, want)
		}
		if b, _ := s.MarshalText(); string(b) != want {
			t.Errorf("%d: MarshalText %q; want %q", s, b, want)
		}
		var back TaskState
		if err := back.UnmarshalText([]byte(want)); (err == nil) != (s <= TaskFailed) || err == nil && back != s {
			t.Errorf("UnmarshalText(%q) = %v, %v", want, back, err)
		}
	}
}

// Event-loop tasks are registered like any other: a child started by the
// loop's main task waits for the loop (pending) until main gives it up.
func TestTasksInEventLoop(t *testing.T) {
	defer SetDebug(SetDebug(true))
	err := RunLoop(bg, func(ctx context.Context) error {
		child := Go(ctx, value(1), Name("loop-child"))
		if s := byName(t, Tasks(), "loop-child").State; s != TaskPending {
			t.Errorf("a loop child before main yields: %v; want pending", s)
		}
		if _, err := child.Await(ctx); err != nil {
			return err
		}
		if s := byName(t, Tasks(), "loop-child").State; s != TaskDone {
			t.Errorf("a loop child after it was awaited: %v; want done", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A snapshot lists every live and recently settled task once, in order of
// id, whatever order the registry's map yields them in.
func TestSnapshotOrder(t *testing.T) {
	r := newRegistry()
	tasks := make([]task, 500)
	for i := range tasks {
		r.started(&tasks[i], nil)
	}
	for i := 0; i < len(tasks); i += 7 {
		r.settled(&tasks[i])
	}
	s := r.snapshot()
	if len(s) != len(r.live)+len(r.recent) {
		t.Fatalf("%d tasks in the snapshot, want %d", len(s), len(r.live)+len(r.recent))
	}
	for i := 1; i < len(s); i++ {
		if s[i].ID <= s[i-1].ID {
			t.Fatalf("ids out of order at %d: %d after %d", i, s[i].ID, s[i-1].ID)
		}
	}
	want := map[uint64]bool{}
	for _, e := range r.live {
		want[e.id] = true
	}
	for _, e := range r.recent {
		want[e.id] = true
	}
	for _, ti := range s {
		if !want[ti.ID] {
			t.Fatalf("id %d listed twice or unknown", ti.ID)
		}
		delete(want, ti.ID)
	}
}
