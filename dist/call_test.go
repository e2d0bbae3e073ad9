package dist

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/goasync/async"
)

// The task-id registry forgets collected futures (its sweeps keep it from
// growing with every call ever made) and still knows the live ones.
func TestTaskIDForgetsCollectedFutures(t *testing.T) {
	live := make([]*async.Future[int], 100)
	for i := range live {
		live[i] = async.Resolved(i)
		registerID(live[i], fmt.Sprintf("live.%d", i))
	}
	for i := range 10 * minSweep {
		registerID(async.Resolved(i), fmt.Sprintf("gone.%d", i))
		if i%minSweep == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	registerID(async.Resolved(-1), "last") // may sweep
	taskIDs.Lock()
	n := len(taskIDs.m)
	taskIDs.Unlock()
	if n > 4*minSweep {
		t.Errorf("registry holds %d entries after 10×%d calls whose futures were collected; want them swept", n, minSweep)
	}
	for i, f := range live {
		if id, ok := TaskID(f); !ok || id != fmt.Sprintf("live.%d", i) {
			t.Fatalf("TaskID(live[%d]) = %q, %v", i, id, ok)
		}
	}
	if id, ok := TaskID(async.Resolved(7)); ok {
		t.Fatalf("TaskID of a future no call made = %q, true", id)
	}
}
