package async

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// startCycle starts two tasks, A and B, that await each other.
func startCycle(ctx context.Context, a, b string) (*Future[int], *Future[int]) {
	var fb *Future[int]
	ready := make(chan struct{})
	fa := Go(ctx, func(ctx context.Context) (int, error) { <-ready; return fb.Await(ctx) }, Name(a))
	fb = Go(ctx, func(ctx context.Context) (int, error) { return fa.Await(ctx) }, Name(b))
	close(ready)
	return fa, fb
}

func TestDumpTreeCycleAndBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		defer SetDebug(SetDebug(true))
		release := make(chan struct{})
		root := Go(bg, func(ctx context.Context) (int, error) {
			kid := Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil }, Name("dump-kid"))
			return kid.Await(ctx)
		}, Name("dump-root"))
		fa, fb := startCycle(bg, "dump-A", "dump-B")
		synctest.Wait()
		time.Sleep(1500 * time.Millisecond)

		var buf bytes.Buffer
		if err := Dump(&buf); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		t.Log("\n" + out)
		ts := Tasks()
		a, b := byName(t, ts, "dump-A"), byName(t, ts, "dump-B")
		r, k := byName(t, ts, "dump-root"), byName(t, ts, "dump-kid")
		wants := []string{
			fmt.Sprintf(`#%d "dump-root" blocked 1.5s awaiting #%d "dump-kid" for 1.5s [blocked > 1s]`, r.ID, k.ID),
			fmt.Sprintf(`└── #%d "dump-kid" running 1.5s  ← github.com/goasync/async.TestDumpTreeCycleAndBlocked`, k.ID),
			fmt.Sprintf(`#%d "dump-A" blocked 1.5s awaiting #%d "dump-B" for 1.5s [AWAIT CYCLE] [blocked > 1s]`, a.ID, b.ID),
			fmt.Sprintf(`  #%d "dump-A" → #%d "dump-B" → #%d "dump-A"`, a.ID, b.ID, a.ID),
			"1 await cycle(s)",
		}
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("Dump lacks %q:\n%s", w, out)
			}
		}
		if regexp.MustCompile(`"dump-(root|kid)"[^\n]*CYCLE`).MatchString(out) {
			t.Errorf("a task outside the cycle is flagged:\n%s", out)
		}

		// Canceling one task of the cycle breaks it: both settle.
		fa.Cancel()
		if _, err := fb.Await(bg); err == nil {
			t.Fatal("B settled without an error after A was canceled")
		}
		close(release)
		root.Await(bg)
		synctest.Wait()
		buf.Reset()
		Dump(&buf)
		if strings.Contains(buf.String(), "CYCLE") {
			t.Fatalf("cycle still reported after it was broken:\n%s", buf.String())
		}
	})
}

func TestDumpDebugOff(t *testing.T) {
	defer SetDebug(SetDebug(false))
	var buf bytes.Buffer
	if err := Dump(&buf); err != nil || !strings.Contains(buf.String(), "debug mode is off") {
		t.Fatalf("Dump = %q, %v; want a line saying debug mode is off", buf.String(), err)
	}
}

func TestAwaitCycles(t *testing.T) {
	blocked := func(id uint64, on ...uint64) TaskInfo {
		return TaskInfo{ID: id, State: TaskBlocked, Awaiting: on}
	}
	for _, tc := range []struct {
		name  string
		tasks []TaskInfo
		want  [][]uint64
	}{
		{"none", []TaskInfo{blocked(1, 2), {ID: 2, State: TaskRunning}}, nil},
		{"self", []TaskInfo{blocked(7, 7)}, [][]uint64{{7}}},
		{"pair", []TaskInfo{blocked(2, 1), blocked(1, 2)}, [][]uint64{{1, 2}}},
		{"three and a tail", []TaskInfo{blocked(9, 3), blocked(3, 4), blocked(4, 5), blocked(5, 3)}, [][]uint64{{3, 4, 5}}},
		{"two", []TaskInfo{blocked(1, 2), blocked(2, 1), blocked(10, 11), blocked(11, 12, 10), blocked(12)}, [][]uint64{{1, 2}, {10, 11}}},
		{"shortest through the smallest", []TaskInfo{blocked(1, 2), blocked(2, 3, 1), blocked(3, 1)}, [][]uint64{{1, 2}}},
		{"settled edges do not count", []TaskInfo{blocked(1, 2), {ID: 2, State: TaskDone, Awaiting: []uint64{1}}}, nil},
	} {
		got := AwaitCycles(tc.tasks)
		if !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%s: AwaitCycles = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// Dump shows what every live task is doing, and finds tasks that await each
// other.
func ExampleDump() {
	defer SetDebug(SetDebug(true))
	a, b := startCycle(context.Background(), "A", "B")
	for len(AwaitCycles(Tasks())) == 0 {
		runtime.Gosched() // until both wait
	}
	var buf bytes.Buffer
	Dump(&buf)
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, "→") || strings.Contains(line, "cycle(s)") {
			fmt.Println(regexp.MustCompile(`#\d+ `).ReplaceAllString(line, "")) // ids vary
		}
	}
	a.Cancel() // breaks the cycle
	b.Await(context.Background())
	// Output:
	// 1 await cycle(s): each task awaits the next, so none of them can finish (deadlock):
	//   "A" → "B" → "A"
}
