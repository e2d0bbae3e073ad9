package dist

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"weak"

	"github.com/goasync/async"
	"github.com/goasync/async/internal/attach"
)

// TaskID knows a call's id before and after its future settles, for Call
// and Attach alike, and nothing of futures that no call made; a settled
// future does not keep its call.
func TestTaskIDAcrossSettlement(t *testing.T) {
	s := testServer(t)
	c := newClient(t, connect(t, s.URL()))
	f := Call[int, int](context.Background(), c, "nobody", 1, WaitForWorker())
	id, ok := TaskID(f)
	if !ok || !validTaskID(id) {
		t.Fatalf("TaskID of a pending call = %q, %v", id, ok)
	}
	a := Attach[int](context.Background(), c, id)
	if aid, ok := TaskID(a); !ok || aid != id {
		t.Fatalf("TaskID of Attach(%q) = %q, %v", id, aid, ok)
	}
	call := weak.Make(attach.Find(f).Settler.(*call))
	f.Cancel()
	if _, err := f.Await(context.Background()); !errors.Is(err, async.ErrCanceled) {
		t.Fatalf("Await after Cancel = %v", err)
	}
	if got, ok := TaskID(f); !ok || got != id {
		t.Fatalf("TaskID after the future settled = %q, %v; want %q", got, ok, id)
	}
	a.Cancel()
	_, _ = a.Await(context.Background())
	if got, ok := TaskID(a); !ok || got != id {
		t.Fatalf("TaskID of Attach after it settled = %q, %v; want %q", got, ok, id)
	}
	for _, other := range []*async.Future[int]{async.Resolved(7), async.NewPromise[int]().Future(), new(async.Future[int]), nil} {
		if id, ok := TaskID(other); ok {
			t.Errorf("TaskID of a future no call made = %q, true", id)
		}
	}
	if id, ok := TaskID(Call[int, int](context.Background(), c, "bad name!", 1)); ok {
		t.Errorf("TaskID of a call rejected for its name = %q, true", id)
	}
	c.Close() // waits for the cancel requests sent in the background, which hold the call
	runtime.GC()
	if call.Value() != nil {
		t.Error("a settled future keeps its call (the hook should let go of it)")
	}
	if id, ok := TaskID(Call[int, int](context.Background(), c, "x", 1, WaitForWorker())); !ok || !validTaskID(id) {
		t.Errorf("TaskID of a call made after Close = %q, %v; want its id", id, ok)
	}
}
