package async

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestPoolSubmit(t *testing.T) {
	p := NewPool(3)
	fs := make([]*Future[int], 100)
	for i := range fs {
		fs[i] = Submit(bg, p, func(ctx context.Context) (int, error) { return i * i, nil })
	}
	vs, err := All(bg, fs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v != i*i {
			t.Fatalf("result %d = %d", i, v)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st != (PoolStats{Completed: 100}) {
		t.Fatalf("Stats after Close = %+v", st)
	}
}

func TestPoolBoundsWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(4)
		var g gauge
		var fs []*Future[int]
		for i := range 50 {
			fs = append(fs, Submit(bg, p, func(ctx context.Context) (int, error) {
				g.enter()
				defer g.exit()
				if st := p.Stats(); st.Workers > 4 || st.Running > 4 {
					t.Errorf("Stats = %+v", st)
				}
				return i, Sleep(ctx, time.Millisecond)
			}))
		}
		if _, err := All(bg, fs...); err != nil {
			t.Fatal(err)
		}
		if m := g.max.Load(); m != 4 {
			t.Fatalf("at most %d tasks ran at once; want 4", m)
		}
		p.Close()
	})
}

func TestPoolWorkersStartLazilyAndExitWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(2)
		if w := p.Stats().Workers; w != 0 {
			t.Fatalf("NewPool started %d workers", w)
		}
		if _, err := Submit(bg, p, value(1)).Await(bg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if w := p.Stats().Workers; w != 1 {
			t.Fatalf("%d workers after one task; want 1", w)
		}
		// Work within the idle period keeps the worker.
		time.Sleep(poolIdleTimeout / 2)
		Submit(bg, p, value(2)).Await(bg)
		time.Sleep(poolIdleTimeout)
		synctest.Wait()
		if w := p.Stats().Workers; w != 1 {
			t.Fatalf("%d workers right after work; want 1", w)
		}
		time.Sleep(2 * poolIdleTimeout)
		synctest.Wait()
		if st := p.Stats(); st.Workers != 0 || st.Completed != 2 {
			t.Fatalf("after two idle periods: %+v; want no workers", st)
		}
		// And it comes back to life.
		if v, err := Submit(bg, p, value(3)).Await(bg); v != 3 || err != nil {
			t.Fatal(v, err)
		}
		// No Close: after an idle period nothing of the pool is left;
		// synctest.Test fails if a goroutine outlives this function.
		time.Sleep(2 * poolIdleTimeout)
		synctest.Wait()
		if w := p.Stats().Workers; w != 0 {
			t.Fatalf("%d workers left", w)
		}
	})
}

// blocker is a task that runs until released.
func blocker(release <-chan struct{}, ran *atomic.Int32) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		ran.Add(1)
		<-release
		return 0, nil
	}
}

func TestPoolSubmitBlocksWhileQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(1, Backlog(1))
		release := make(chan struct{})
		var ran atomic.Int32
		Submit(bg, p, blocker(release, &ran)) // running
		Submit(bg, p, blocker(release, &ran)) // queued
		synctest.Wait()
		var third *Future[int]
		gone := make(chan struct{})
		go func() {
			third = Submit(bg, p, blocker(release, &ran))
			close(gone)
		}()
		synctest.Wait()
		if returned(gone) {
			t.Fatal("Submit returned with the queue full")
		}
		if st := p.Stats(); st.Queued != 1 || st.Running != 1 {
			t.Fatalf("Stats = %+v", st)
		}
		close(release)
		<-gone
		if _, err := third.Await(bg); err != nil {
			t.Fatal(err)
		}
		p.Close()
		if n := ran.Load(); n != 3 {
			t.Fatalf("%d tasks ran; want 3", n)
		}
	})
}

func TestPoolSubmitGivesUpWhenCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(1, Backlog(1))
		release := make(chan struct{})
		var ran atomic.Int32
		Submit(bg, p, blocker(release, &ran))
		Submit(bg, p, blocker(release, &ran))
		ctx, cancel := context.WithCancelCause(bg)
		cause := errors.New("client went away")
		var third *Future[int]
		var goErr error
		gone := make(chan struct{})
		go func() {
			defer close(gone)
			third = Submit(ctx, p, blocker(release, &ran))
			goErr = p.Go(ctx, func(context.Context) error { ran.Add(1); return nil })
		}()
		synctest.Wait()
		cancel(cause)
		<-gone
		if r, done := third.Peek(); !done || !errors.Is(r.Err, context.Canceled) || !errors.Is(r.Err, cause) {
			t.Fatalf("rejected future = %+v, settled %v; want the ctx error and cause", r, done)
		}
		if !errors.Is(goErr, context.Canceled) {
			t.Fatalf("Pool.Go = %v", goErr)
		}
		if st := p.Stats(); st.Queued != 1 {
			t.Fatalf("Stats = %+v; nothing may be half-queued", st)
		}
		close(release)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if n := ran.Load(); n != 2 {
			t.Fatalf("%d tasks ran; want 2", n)
		}
		if st := p.Stats(); st.Completed != 2 {
			t.Fatalf("Stats = %+v", st)
		}
	})
}

func TestPoolBacklogZeroIsHandoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(1, Backlog(0))
		release := make(chan struct{})
		var ran atomic.Int32
		Submit(bg, p, blocker(release, &ran))
		gone := make(chan struct{})
		go func() {
			Submit(bg, p, blocker(release, &ran))
			close(gone)
		}()
		synctest.Wait()
		if returned(gone) {
			t.Fatal("Submit returned with the only worker busy and no backlog")
		}
		if st := p.Stats(); st.Queued != 0 {
			t.Fatalf("Stats = %+v", st)
		}
		close(release)
		<-gone
		p.Close()
		if n := ran.Load(); n != 2 {
			t.Fatalf("%d tasks ran; want 2", n)
		}
	})
}

func TestPoolClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(2)
		release := make(chan struct{})
		var finished atomic.Int32
		var fs []*Future[int]
		for i := range 10 {
			fs = append(fs, Submit(bg, p, func(context.Context) (int, error) {
				<-release
				finished.Add(1)
				if i%3 == 0 {
					return 0, errA
				}
				if i == 4 {
					panic("task 4")
				}
				return i, nil
			}))
		}
		closed := make(chan struct{})
		go func() {
			p.Close()
			close(closed)
		}()
		synctest.Wait()
		if returned(closed) {
			t.Fatal("Close returned before the accepted tasks finished")
		}
		// Refused from now on.
		if _, err := Submit(bg, p, value(1)).Await(bg); err != ErrClosed {
			t.Fatalf("Submit after Close = %v; want ErrClosed", err)
		}
		if err := p.Go(bg, func(context.Context) error { return nil }); err != ErrClosed {
			t.Fatalf("Go after Close = %v; want ErrClosed", err)
		}
		close(release)
		<-closed
		if n := finished.Load(); n != 10 {
			t.Fatalf("%d of 10 accepted tasks finished", n)
		}
		want := PoolStats{Completed: 10, Failed: 5, Panicked: 1}
		if st := p.Stats(); st != want {
			t.Fatalf("Stats after Close = %+v; want %+v", st, want)
		}
		AllSettled(bg, fs...)
	})
}

func TestPoolCloseRejectsBlockedSubmitters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(1, Backlog(0))
		release := make(chan struct{})
		var ran atomic.Int32
		Submit(bg, p, blocker(release, &ran))
		var blocked *Future[int]
		gone := make(chan struct{})
		go func() {
			blocked = Submit(bg, p, blocker(release, &ran))
			close(gone)
		}()
		synctest.Wait()
		closed := make(chan struct{})
		go func() { p.Close(); close(closed) }()
		<-gone
		if _, err := blocked.Await(bg); err != ErrClosed {
			t.Fatalf("blocked Submit = %v; want ErrClosed", err)
		}
		close(release)
		<-closed
		if n := ran.Load(); n != 1 {
			t.Fatalf("%d tasks ran; want 1", n)
		}
	})
}

func TestPoolPanicWorkerSurvives(t *testing.T) {
	p := NewPool(1)
	var first, second string
	_, err := Submit(bg, p, func(context.Context) (int, error) {
		first = goroutineID()
		panic("task blew up")
	}).Await(bg)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "task blew up" {
		t.Fatalf("future = %v; want *PanicError", err)
	}
	v, err := Submit(bg, p, func(context.Context) (int, error) {
		second = goroutineID()
		return 5, nil
	}).Await(bg)
	if v != 5 || err != nil {
		t.Fatalf("after a panic: %v, %v", v, err)
	}
	if first != second {
		t.Fatalf("the task after the panic ran on goroutine %s, not on the worker %s", second, first)
	}
	p.Close()
	if st := p.Stats(); st != (PoolStats{Completed: 2, Failed: 1, Panicked: 1}) {
		t.Fatalf("Stats = %+v", st)
	}
}

// goroutineID returns the current goroutine's number, from its stack header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	return f[1] // "goroutine N [running]:"
}

func TestPoolGoexitInTask(t *testing.T) {
	p := NewPool(1)
	release := make(chan struct{})
	f := Submit(bg, p, func(context.Context) (int, error) { <-release; runtime.Goexit(); return 0, nil })
	g := Submit(bg, p, value(9)) // queued behind it
	close(release)
	if _, err := f.Await(bg); !errors.Is(err, ErrGoexit) {
		t.Fatalf("future = %v", err)
	}
	if v, err := g.Await(bg); v != 9 || err != nil {
		t.Fatalf("queued task after Goexit: %v, %v", v, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st != (PoolStats{Completed: 2, Failed: 1}) {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestPoolGoFailuresReportedByClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(1)
		ctx, cancel := context.WithCancel(bg)
		step := make(chan struct{})
		for i, fn := range []func(context.Context) error{
			func(context.Context) error { <-step; return errA },
			func(context.Context) error { return nil },
			func(context.Context) error { panic("go task") },
			func(ctx context.Context) error { cancel(); return ctx.Err() }, // canceled: left out
			func(context.Context) error { return errB },
		} {
			c := bg
			if i == 3 {
				c = ctx
			}
			if err := p.Go(c, fn); err != nil {
				t.Fatal(err)
			}
		}
		close(step)
		err := p.Close()
		var agg *AggregateError
		if !errors.As(err, &agg) || len(agg.Errors) != 3 || agg.Errors[0] != errA || agg.Errors[2] != errB {
			t.Fatalf("Close = %v; want [errA panic errB]", err)
		}
		var pe *PanicError
		if !errors.As(agg.Errors[1], &pe) {
			t.Fatalf("second failure %v; want the panic", agg.Errors[1])
		}
		if again := p.Close(); again != err {
			t.Fatalf("second Close = %v", again)
		}
		if st := p.Stats(); st != (PoolStats{Completed: 5, Failed: 4, Panicked: 1}) {
			t.Fatalf("Stats = %+v", st)
		}
	})
}

func TestPoolQueuedTaskWhoseContextEndedDoesNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(1)
		release := make(chan struct{})
		var ran atomic.Int32
		Submit(bg, p, blocker(release, &ran))
		ctx, cancel := context.WithCancel(bg)
		queued := Submit(ctx, p, blocker(release, &ran))
		canceled := Submit(bg, p, blocker(release, &ran))
		cancel()
		canceled.Cancel()
		close(release)
		if _, err := queued.Await(bg); !errors.Is(err, context.Canceled) {
			t.Fatalf("queued task = %v", err)
		}
		if _, err := canceled.Await(bg); !errors.Is(err, ErrCanceled) {
			t.Fatalf("canceled queued task = %v", err)
		}
		p.Close()
		if n := ran.Load(); n != 1 {
			t.Fatalf("%d tasks ran; want 1", n)
		}
	})
}

func TestPoolName(t *testing.T) {
	p := NewPool(1, Name("thumbs"))
	_, err := Submit(bg, p, failing[int](errA)).Await(bg)
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "thumbs" || !errors.Is(err, errA) {
		t.Fatalf("future = %v", err)
	}
	p.Go(bg, func(context.Context) error { return errB })
	p.Go(bg, func(context.Context) error { panic("x") })
	err = p.Close()
	var agg *AggregateError
	if !errors.As(err, &agg) || !errors.As(agg.Errors[0], &te) || te.Task != "thumbs" {
		t.Fatalf("Close = %v", err)
	}
	var pe *PanicError
	if !errors.As(agg.Errors[1], &pe) || pe.Task != "thumbs" {
		t.Fatalf("Close = %v", err)
	}
}

func TestPoolTaskContext(t *testing.T) {
	p := NewPool(1)
	defer p.Close()
	type key struct{}
	ctx := context.WithValue(bg, key{}, "v")
	v, err := Submit(ctx, p, func(ctx context.Context) (any, error) { return ctx.Value(key{}), nil }).Await(bg)
	if v != "v" || err != nil {
		t.Fatalf("task context lost the caller's values: %v %v", v, err)
	}
	f := Submit(bg, p, sleepy)
	f.Cancel()
	if _, err := f.Await(bg); !errors.Is(err, ErrCanceled) {
		t.Fatalf("canceled task = %v", err)
	}
}

func TestPoolConcurrentUse(t *testing.T) {
	p := NewPool(3, Backlog(4))
	var wg sync.WaitGroup
	var sum atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if i%2 == 0 {
					v, err := Submit(bg, p, value(g*1000+i)).Await(bg)
					if err != nil {
						t.Error(err)
					}
					sum.Add(int64(v))
				} else if err := p.Go(bg, func(context.Context) error { sum.Add(int64(g*1000 + i)); return nil }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	var want int64
	for g := range 8 {
		for i := range 200 {
			want += int64(g*1000 + i)
		}
	}
	if sum.Load() != want {
		t.Fatalf("sum %d; want %d", sum.Load(), want)
	}
	if st := p.Stats(); st != (PoolStats{Completed: 1600}) {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestPoolBadInput(t *testing.T) {
	p := NewPool(1)
	defer p.Close()
	var nilPool *Pool
	var zero Pool
	var nilCtx context.Context
	mustPanic(t, "NewPool(0): workers must be at least 1", func() { NewPool(0) })
	mustPanic(t, "NewPool(-3)", func() { NewPool(-3) })
	mustPanic(t, "Backlog(-1)", func() { Backlog(-1) })
	mustPanic(t, "NewPool: nil option", func() { NewPool(1, nil) })
	mustPanic(t, "Submit with nil function", func() { Submit[int](bg, p, nil) })
	mustPanic(t, "Submit with nil Context", func() { Submit(nilCtx, p, value(1)) })
	mustPanic(t, "Submit to nil *Pool", func() { Submit(bg, nilPool, value(1)) })
	mustPanic(t, "Pool.Go with nil function", func() { _ = p.Go(bg, nil) })
	mustPanic(t, "Pool.Go with nil Context", func() { _ = p.Go(nilCtx, func(context.Context) error { return nil }) })
	mustPanic(t, "Pool.Close on nil *Pool", func() { _ = nilPool.Close() })
	mustPanic(t, "zero Pool", func() { zero.Stats() })
}

// Submitters racing Close on an unbounded pool (where they add to the queue
// without the pool's lock): each task is either refused with ErrClosed or has
// run by the time Close returns.
func TestPoolUnboundedSubmitRacingClose(t *testing.T) {
	ended, cancel := context.WithCancel(bg)
	cancel() // settled futures answer Await even with an ended context
	for round := range 50 {
		p := NewPool(2)
		var ran atomic.Int64
		var wg sync.WaitGroup
		futures := make([][]*Future[int], 4)
		start := make(chan struct{})
		for g := range futures {
			wg.Go(func() {
				<-start
				for i := range 300 {
					futures[g] = append(futures[g], Submit(bg, p, func(context.Context) (int, error) {
						ran.Add(1)
						return i, nil
					}))
				}
			})
		}
		close(start)
		for range round % 4 {
			runtime.Gosched() // Close at different points of the submissions
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		atClose := ran.Load()
		wg.Wait()
		accepted := int64(0)
		for _, fs := range futures {
			for _, f := range fs {
				switch _, err := f.Await(ended); {
				case err == nil:
					accepted++
				case !errors.Is(err, ErrClosed):
					t.Fatalf("round %d: a future after Close: %v", round, err)
				}
			}
		}
		if accepted != atClose || ran.Load() != atClose {
			t.Fatalf("round %d: %d tasks accepted, %d had run when Close returned, %d ran in all", round, accepted, atClose, ran.Load())
		}
		if st := p.Stats(); st != (PoolStats{Completed: int(atClose)}) {
			t.Fatalf("round %d: Stats = %+v", round, st)
		}
	}
}

// Bursts from several submitters, each awaited before the next, so that the
// workers park between bursts and wake up for the next: no task is left in
// the queue with every worker parked.
func TestPoolUnboundedWorkersParkAndWake(t *testing.T) {
	ctx, cancel := context.WithTimeout(bg, time.Minute) // a lost wake-up fails instead of hanging
	defer cancel()
	p := NewPool(2)
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for burst := range 300 {
				fs := make([]*Future[int], 1+(g+burst)%5)
				for i := range fs {
					fs[i] = Submit(bg, p, value(i))
				}
				if _, err := All(ctx, fs...); err != nil {
					t.Errorf("burst %d: %v", burst, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Running != 0 || st.Queued != 0 || st.Workers != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

// A queue that once held many tasks gives its memory back when the pool
// has been idle.
func TestPoolIdleReleasesQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(1)
		release := make(chan struct{})
		var ran atomic.Int32
		first := Submit(bg, p, blocker(release, &ran))
		fs := make([]*Future[int], 3*poolSegLen)
		for i := range fs {
			fs[i] = Submit(bg, p, value(i))
		}
		synctest.Wait()
		if st := p.Stats(); st.Queued != len(fs) || st.Running != 1 {
			t.Fatalf("Stats = %+v", st)
		}
		close(release)
		if _, err := All(bg, append(fs, first)...); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * poolIdleTimeout)
		synctest.Wait()
		p.mu.Lock()
		held := p.queue.head != nil || p.queue.tail.Load() != nil || p.queue.free.Load() != nil
		p.mu.Unlock()
		if held {
			t.Fatal("an idle pool still holds its queue's segments")
		}
		// And the queue starts again.
		if v, err := Submit(bg, p, value(7)).Await(bg); v != 7 || err != nil {
			t.Fatal(v, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// poolWithSegment returns a pool of one parked worker whose queue has a
// segment, so that Submit adds to it without the pool's lock.
func poolWithSegment(t *testing.T) *Pool {
	t.Helper()
	p := NewPool(1)
	release := make(chan struct{})
	var ran atomic.Int32
	first := Submit(bg, p, blocker(release, &ran))
	queued := Submit(bg, p, value(1)) // queued behind first: the queue's first segment
	close(release)
	if _, err := All(bg, first, queued); err != nil {
		t.Fatal(err)
	}
	return p
}

// A worker finds the queue empty and, before it counts itself idle, a
// submitter adds a task and finds no idle worker: the worker must see the
// task when it looks again, instead of parking with it queued (until the
// idle check would notice, which time standing still in the bubble rules
// out).
func TestPoolWorkerParkingMeetsSubmitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := poolWithSegment(t)
		atParking := make(chan struct{})
		resume := make(chan struct{})
		hook := func() {
			poolHookParking.Store(nil) // once
			close(atParking)
			<-resume
		}
		poolHookParking.Store(&hook)
		defer poolHookParking.Store(nil)
		Submit(bg, p, value(2)) // runs; then the worker stops at the hook
		<-atParking
		f := Submit(bg, p, value(3)) // added while the worker holds p.mu, not yet idle
		close(resume)
		synctest.Wait()
		ended, cancel := context.WithCancel(bg)
		cancel()
		if v, err := f.Await(ended); v != 3 || err != nil {
			t.Fatalf("the task added as the worker was parking: %v, %v", v, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// A submitter finds every worker busy, a worker parks, the submitter adds a
// task, and Close runs before the submitter looks for a parked worker again:
// Close must have the task run before it returns.
func TestPoolCloseMeetsSubmitterAfterAdding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := poolWithSegment(t)
		release := make(chan struct{})
		var blocked atomic.Int32
		busy := Submit(bg, p, blocker(release, &blocked))
		synctest.Wait()
		at := make(chan bool)
		resume := make(chan struct{})
		hook := func(added bool) {
			at <- added
			<-resume
		}
		poolHookAdding.Store(&hook)
		defer poolHookAdding.Store(nil)
		var ran atomic.Bool
		submitted := make(chan *Future[int])
		go func() {
			submitted <- Submit(bg, p, func(context.Context) (int, error) { ran.Store(true); return 4, nil })
		}()
		if added := <-at; added {
			t.Fatal("the submitter added without pausing first")
		}
		close(release) // the worker finishes and parks, the queue being empty
		if _, err := busy.Await(bg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := p.Stats(); st.Running != 0 || st.Workers != 1 {
			t.Fatalf("Stats = %+v; want one parked worker", st)
		}
		resume <- struct{}{}
		if added := <-at; !added {
			t.Fatal("the submitter did not add")
		}
		poolHookAdding.Store(nil)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if !ran.Load() {
			t.Error("Close returned before a task it had accepted ran")
		}
		close(resume)
		if v, err := (<-submitted).Await(bg); v != 4 || err != nil {
			t.Fatal(v, err)
		}
		if st := p.Stats(); st != (PoolStats{Completed: 4}) {
			t.Fatalf("Stats = %+v", st)
		}
	})
}
