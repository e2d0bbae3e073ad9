package async

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"testing"
)

// A named task runs under the pprof label async.task=<name>: the goroutine
// profile shows it, and the task's context carries it for pprof.Do.
func TestProfilingLabelsNamedTasks(t *testing.T) {
	defer SetProfiling(SetProfiling(true))
	release := make(chan struct{})
	running := make(chan string, 1)
	f := Go(bg, func(ctx context.Context) (int, error) {
		v, _ := pprof.Label(ctx, "async.task")
		running <- v
		<-release
		return 1, nil
	}, Name("labeled-task"))
	if v := <-running; v != "labeled-task" {
		t.Errorf("pprof.Label(ctx) = %q; want labeled-task", v)
	}
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	close(release)
	f.Await(bg)
	if !strings.Contains(buf.String(), `"async.task":"labeled-task"`) {
		t.Fatalf("goroutine profile lacks the task's label:\n%s", buf.String())
	}
}

// A pool worker goes back to the labels it had after each task: a Pool.Go
// function (not a task) that runs after a named task carries no task label.
func TestProfilingLabelsReset(t *testing.T) {
	defer SetProfiling(SetProfiling(true))
	p := NewPool(1, Name("label-pool"))
	if _, err := Submit(bg, p, value(1)).Await(bg); err != nil {
		t.Fatal(err)
	}
	parked, release := make(chan struct{}), make(chan struct{})
	if err := p.Go(bg, func(context.Context) error { parkUnlabeled(parked, release); return nil }); err != nil {
		t.Fatal(err)
	}
	<-parked
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	close(release)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, rec := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(rec, "parkUnlabeled") {
			if strings.Contains(rec, "async.task") {
				t.Fatalf("the worker kept the task's label:\n%s", rec)
			}
			return
		}
	}
	t.Fatalf("the parked worker is not in the profile:\n%s", buf.String())
}

//go:noinline
func parkUnlabeled(parked, release chan struct{}) {
	close(parked)
	<-release
}

func TestSetProfilingReturnsPrevious(t *testing.T) {
	prev := SetProfiling(true)
	defer SetProfiling(prev)
	if !SetProfiling(false) || SetProfiling(true) {
		t.Fatal("SetProfiling did not return the previous setting")
	}
}
