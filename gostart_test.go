package async

import (
	"context"
	"sync"
	"testing"
)

// The compiler lays out startClosure's closure as goStart, so a task's
// goroutine starts from its own allocation. If this fails after a Go
// upgrade, tasks still run (goTask falls back to a go statement), one
// allocation dearer each: goStart's layout needs a look.
func TestGoStartLayout(t *testing.T) {
	if startCode == 0 {
		t.Fatal("startClosure's closure is not laid out as goStart: each task allocates its goroutine's closure")
	}
	ctx := context.Background()
	double := Func(func(_ context.Context, x int) (int, error) { return 2 * x, nil })
	fn := func(context.Context) (int, error) { return 1, nil }
	// Goroutines that have ended are reused: end enough first that starting
	// the tasks below makes none.
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range 500 {
		wg.Go(func() { <-release })
	}
	close(release)
	wg.Wait()
	fs := make([]*Future[int], 0, 202)
	goAllocs := testing.AllocsPerRun(100, func() { fs = append(fs, Go(ctx, fn)) })
	callAllocs := testing.AllocsPerRun(100, func() { fs = append(fs, double(ctx, 1)) })
	if _, err := All(ctx, fs...); err != nil {
		t.Fatal(err)
	}
	if goAllocs != 1 || callAllocs != 1 {
		t.Errorf("allocations: Go %v, an async function's call %v; want 1 each", goAllocs, callAllocs)
	}
	fs = fs[:0]
	for range 100 {
		fs = append(fs, Go(ctx, fn), double(ctx, 1))
	}
	vs, err := All(ctx, fs...)
	if err != nil || len(vs) != 200 || vs[0] != 1 || vs[1] != 2 {
		t.Fatalf("All: %v, %v", vs[:2], err)
	}
}

// Without the closure layout, tasks start through a go statement.
func TestGoStartFallback(t *testing.T) {
	saved := startCode
	startCode = 0
	defer func() { startCode = saved }()
	ctx := context.Background()
	double := Func(func(_ context.Context, x int) (int, error) { return 2 * x, nil })
	for i := range 50 {
		a, err := Go(ctx, func(context.Context) (int, error) { return i, nil }).Await(ctx)
		b, err2 := double(ctx, i).Await(ctx)
		if a != i || b != 2*i || err != nil || err2 != nil {
			t.Fatalf("%d: Go %d, %v; call %d, %v", i, a, err, b, err2)
		}
	}
	if closureCode(func() {}, nil) != 0 {
		t.Error("closureCode accepted a closure that captures nothing")
	}
}
