package tracecheck

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/trace"
	"testing"

	"github.com/goasync/async"
	"go.uber.org/goleak"
	exptrace "golang.org/x/exp/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// With profiling on and runtime/trace tracing, each task is a trace task
// nested under the task of its context, its function runs in a region
// "async.run", and each wait is a region "async.Await" of the waiting task.
func TestTasksAndAwaitsInExecutionTrace(t *testing.T) {
	defer async.SetProfiling(async.SetProfiling(true))
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	ctx, request := trace.NewTask(context.Background(), "request")
	_, err := async.Go(ctx, func(ctx context.Context) (int, error) {
		child := async.Go(ctx, func(context.Context) (int, error) { return 1, nil }, async.Name("traced-child"))
		never := async.Go(ctx, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }, async.Name("never"))
		// never is pending, so Race begins to wait (a region) and returns
		// at once, as its context has already ended.
		gone, cancel := context.WithCancel(ctx)
		cancel()
		async.Race(gone, never)
		never.Cancel()
		never.Await(ctx)
		return child.Await(ctx)
	}, async.Name("traced-parent")).Await(ctx)
	request.End()
	trace.Stop()
	if err != nil {
		t.Fatal(err)
	}

	r, err := exptrace.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tasks := map[string]exptrace.Task{}       // by type (name)
	regions := map[exptrace.TaskID][]string{} // region types, by task
	for {
		ev, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind() {
		case exptrace.EventTaskBegin:
			tasks[ev.Task().Type] = ev.Task()
		case exptrace.EventRegionBegin:
			regions[ev.Region().Task] = append(regions[ev.Region().Task], ev.Region().Type)
		}
	}
	req, parent, child := tasks["request"], tasks["traced-parent"], tasks["traced-child"]
	if parent.ID == 0 || child.ID == 0 {
		t.Fatalf("trace tasks %v; want traced-parent and traced-child", tasks)
	}
	if parent.Parent != req.ID || child.Parent != parent.ID {
		t.Errorf("traced-parent's parent %d (want request %d), traced-child's parent %d (want %d)", parent.Parent, req.ID, child.Parent, parent.ID)
	}
	has := func(id exptrace.TaskID, region string) bool {
		for _, r := range regions[id] {
			if r == region {
				return true
			}
		}
		return false
	}
	if !has(parent.ID, "async.run") || !has(child.ID, "async.run") {
		t.Errorf("regions %v; want async.run in both tasks", regions)
	}
	if !has(parent.ID, "async.Await") {
		t.Errorf("regions of traced-parent %v; want its Race as async.Await", regions[parent.ID])
	}
}
