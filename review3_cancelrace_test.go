package async

import (
	"context"
	"sync/atomic"
	"testing"
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
// cancel's critical section. Off unless -review.stress is set: it hunts a
// window of a few nanoseconds.
func TestReviewCancelInsideLockFreeSettle(t *testing.T) {
	if *reviewStress == 0 {
		t.Skip("-review.stress not set")
	}
	parent, stop := context.WithDeadline(bg, time.Unix(0, 0)) // already ended
	defer stop()
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
	deadline := time.Now().Add(*reviewStress)
	hits := 0
	for iter := 0; time.Now().Before(deadline); iter++ {
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
		goA.Store(true)
		f.Cancel()
		<-done
		if f.t.state.Load()&stReturned != 0 && f.t.ctxState.Load() == ctxParent {
			hits++
			if hits == 1 {
				t.Errorf("iter %d: the task settled as returned (its context ended, Err context.Canceled) and Cancel then recorded the parent's end as the reason: Err is now %v", iter, f.t.Err())
			}
		}
	}
	t.Logf("%d hits", hits)
}
