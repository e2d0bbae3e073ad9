package async

import (
	"context"
	"sync"
	"testing"
)

type recordingHook struct {
	mu     sync.Mutex
	events []string
	parent map[*task]*task
}

func (r *recordingHook) add(e string) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }
func (r *recordingHook) taskStarted(t, parent *task) {
	r.mu.Lock()
	r.parent[t] = parent
	r.mu.Unlock()
	r.add("started " + t.name())
}
func (r *recordingHook) taskRunning(t *task)  { r.add("running " + t.name()) }
func (r *recordingHook) taskReturned(t *task) { r.add("returned " + t.name()) }
func (r *recordingHook) taskSettled(t *task)  { r.add("settled " + t.name()) }
func (r *recordingHook) awaitBegin(ctx context.Context, on []*task) *awaitRec {
	w := taskOfContext(ctx)
	r.add("await " + nameOf(w) + " on " + on[0].name())
	return &awaitRec{waiter: w}
}
func (r *recordingHook) awaitEnd(rec *awaitRec) { r.add("awaited " + nameOf(rec.waiter)) }

func TestHooksSeeLifecycleAndAwaitEdges(t *testing.T) {
	r := &recordingHook{parent: map[*task]*task{}}
	prev := setHook(r)
	defer setHook(prev)
	release := make(chan struct{})
	var inner *Future[int]
	outer := Go(bg, func(ctx context.Context) (int, error) {
		inner = Go(ctx, func(context.Context) (int, error) { <-release; return 1, nil }, Name("inner"))
		close(release)
		return inner.Await(ctx)
	}, Name("outer"))
	outer.Await(bg)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parent[&inner.t] != &outer.t {
		t.Fatal("inner's parent is not outer")
	}
	want := map[string]bool{"started outer": false, "running outer": false, "started inner": false,
		"settled inner": false, "settled outer": false, "awaited outer": false, "returned outer": false}
	for _, e := range r.events {
		if _, ok := want[e]; ok {
			want[e] = true
		}
	}
	for e, seen := range want {
		if !seen {
			t.Errorf("no %q event in %v", e, r.events)
		}
	}
}

func nameOf(t *task) string {
	if t == nil {
		return "<none>"
	}
	return t.name()
}

type nopObserver struct{}

func (nopObserver) TaskStarted(ctx context.Context, _ string) context.Context { return ctx }
func (nopObserver) TaskEnded(context.Context, error)                          {}
func (nopObserver) Awaiting(context.Context, []context.Context)               {}

// BenchmarkHooks is BenchmarkGoAwait's spawn and await, of a named task,
// with each debugging feature on: what debug mode, profiling (pprof labels;
// runtime/trace is not recording) and an observer that does nothing cost per
// task. The "async" line, with all of them off, is the figure the core must
// keep.
func BenchmarkHooks(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		sum := 0
		for i := 0; b.Loop(); i++ {
			ch := make(chan int, 1)
			go func() { ch <- work(i) }()
			sum += <-ch
		}
		_ = sum
	})
	// Named tasks, so that profiling sets pprof labels.
	named := Name("bench")
	spawnAwait := func(b *testing.B) {
		b.ReportAllocs()
		sum := 0
		for i := 0; b.Loop(); i++ {
			v, _ := Go(ctx, func(context.Context) (int, error) { return work(i), nil }, named).Await(ctx)
			sum += v
		}
		_ = sum
	}
	b.Run("async", spawnAwait)
	b.Run("async-debug", func(b *testing.B) {
		defer SetDebug(SetDebug(true))
		spawnAwait(b)
	})
	b.Run("async-profiling", func(b *testing.B) {
		defer SetProfiling(SetProfiling(true))
		spawnAwait(b)
	})
	b.Run("async-observer", func(b *testing.B) {
		defer SetObserver(SetObserver(nopObserver{}))
		spawnAwait(b)
	})
}
