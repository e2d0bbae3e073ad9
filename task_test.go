package async

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// A task that settles without its lock can do so inside t.cancel's critical
// section, between cancel's look at the context's reason (live) and its
// store of a reason: cancel takes t.mu, which the lock-free settlement no
// longer does. Then a context that had ended as returned (stReturned: Err
// is context.Canceled) gets a reason recorded afterwards. With the parent
// ended, Future.Cancel records ctxParent, which makes an extension, so the
// benign order (cancel before the swap) makes the swap fail: a final state
// with both stReturned and ctxParent can only come from the swap landing in
// cancel's critical section. The parent ends after the task has looked at
// it and before Cancel. Off unless -async.stress is set: it hunts a
// window of a few nanoseconds.
func TestCancelDuringLockFreeSettle(t *testing.T) {
	if *stressFor == 0 {
		t.Skip("-async.stress not set")
	}
	var (
		cur        atomic.Pointer[task]
		ready, goA atomic.Bool
		spinTask   atomic.Int64
	)
	hook := func(tk *task) {
		if tk != cur.Load() {
			return
		}
		ready.Store(true)
		for !goA.Load() {
		}
		for i := spinTask.Load(); i > 0; i-- {
		}
	}
	settleHookSwapping.Store(&hook)
	defer settleHookSwapping.Store(nil)
	deadline := time.Now().Add(*stressFor)
	hits := 0
	for iter := 0; time.Now().Before(deadline); iter++ {
		parent := &endingCtx{Context: bg, done: make(chan struct{})} // ended once the task has looked
		stop := parent.end
		f := new(Future[int])
		f.t.start(parent, nil, nil, 0)
		ready.Store(false)
		goA.Store(false)
		spinTask.Store(int64(iter % 64))
		cur.Store(&f.t)
		done := make(chan struct{})
		go func() { f.run(value(1)); close(done) }()
		for !ready.Load() {
		}
		stop() // Cancel now records the parent's end (ctxParent)
		goA.Store(true)
		f.Cancel()
		<-done
		if f.t.state.Load()&stReturned != 0 && f.t.ctxState.Load() == ctxParent {
			hits++
			if hits == 1 {
				t.Errorf("iter %d: the task settled as returned (its context ended, Err context.Canceled) and Cancel then recorded the parent's end as the reason: Err is now %v, was context.Canceled", iter, f.t.Err())
			}
		}
	}
	t.Logf("%d hits", hits)
}

// endingCtx is a parent context that ends, with DeadlineExceeded, when told.
type endingCtx struct {
	context.Context
	ended atomic.Bool
	done  chan struct{}
}

func (c *endingCtx) end() {
	c.ended.Store(true)
	close(c.done)
}

func (c *endingCtx) Done() <-chan struct{} { return c.done }

func (c *endingCtx) Err() error {
	if c.ended.Load() {
		return context.DeadlineExceeded
	}
	return nil
}

// errAcrossReturn runs a task on parent that waits for its context to end if
// wait, and returns the context and its Err as the task saw it.
func errAcrossReturn(parent context.Context, wait bool, opts ...TaskOption) (context.Context, error) {
	var taskCtx context.Context
	var inside error
	f := Go(parent, func(ctx context.Context) (int, error) {
		if wait {
			<-ctx.Done()
		}
		taskCtx, inside = ctx, ctx.Err()
		return 1, nil
	}, opts...)
	f.Await(bg)
	return taskCtx, inside
}

// checkErrKept fails unless the task saw DeadlineExceeded and its context
// still says so after it returned.
func checkErrKept(t *testing.T, taskCtx context.Context, inside error) {
	t.Helper()
	if inside != context.DeadlineExceeded {
		t.Fatalf("inside: %v", inside)
	}
	if after := taskCtx.Err(); after != inside {
		t.Fatalf("the task's context said Err = %v while it ran, then %v once it returned: a context's Err must not change once non-nil", inside, after)
	}
}

// A task whose parent has ended keeps the parent's reason once it returns.
func TestErrKeptOnReturn(t *testing.T) {
	parent, cancel := context.WithDeadline(bg, time.Unix(0, 0)) // already ended
	defer cancel()
	taskCtx, inside := errAcrossReturn(parent, false)
	checkErrKept(t, taskCtx, inside)
	if c := context.Cause(taskCtx); c != context.DeadlineExceeded {
		t.Fatalf("Cause = %v; want the parent's", c)
	}
}

// The same with the task's standard context made (Done) while it ran.
func TestErrKeptOnReturnAfterDone(t *testing.T) {
	parent, cancel := context.WithDeadline(bg, time.Unix(0, 0)) // already ended
	defer cancel()
	taskCtx, inside := errAcrossReturn(parent, true)
	checkErrKept(t, taskCtx, inside)
}

// The same with the task's own Timeout passing while it runs.
func TestErrKeptOnReturnAfterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		taskCtx, inside := errAcrossReturn(bg, true, Timeout(time.Second))
		checkErrKept(t, taskCtx, inside)
	})
}
