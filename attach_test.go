package async

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/goasync/async/internal/attach"
)

// countSettler counts the times it is told, and whether a blocked Await had
// returned by then.
type countSettler struct {
	n        int
	returned chan struct{}
	early    bool
}

func (s *countSettler) Settled() {
	s.n++
	if s.returned != nil {
		select {
		case <-s.returned:
			s.early = true
		default:
		}
	}
}

// A hook attached to a promise's future is told once when the future
// settles, before a blocked Await returns, is found from the future before
// and after, and is let go of by the future once told.
func TestAttachedHook(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(f *Future[int]) // waiters that come first
	}{
		{"alone", func(*Future[int]) {}},
		{"after a waiter", func(f *Future[int]) { f.t.subscribe(&orderWaiter{name: "w", log: new([]string), mu: new(sync.Mutex)}) }},
		{"after the extension", func(f *Future[int]) { _ = f.Done() }},
		{"third", func(f *Future[int]) {
			f.t.subscribe(&orderWaiter{name: "w1", log: new([]string), mu: new(sync.Mutex)})
			f.t.subscribe(&orderWaiter{name: "w2", log: new([]string), mu: new(sync.Mutex)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := NewPromise[int]()
				f := p.Future()
				tc.before(f)
				s := &countSettler{returned: make(chan struct{})}
				h := &attach.Hook{Settler: s, Key: "k"}
				attach.Add(f, h)
				if got := attach.Find(f); got != h {
					t.Fatalf("Find before settling = %p, want %p", got, h)
				}
				go func() {
					_, _ = f.Await(context.Background())
					close(s.returned)
				}()
				synctest.Wait()
				f.Cancel()
				<-s.returned
				if s.n != 1 || s.early {
					t.Fatalf("hook told %d times (want 1), after the Await returned: %v", s.n, s.early)
				}
				if got := attach.Find(f); got != h || h.Settler != nil {
					t.Fatalf("after settling: Find = %p (want %p), Settler kept: %v", got, h, h.Settler != nil)
				}
				p.Resolve(1)
				if s.n != 1 {
					t.Fatalf("hook told %d times", s.n)
				}
			})
		})
	}
	t.Run("settled already", func(t *testing.T) {
		f := Resolved(1)
		s := new(countSettler)
		h := &attach.Hook{Settler: s, Key: "k"}
		attach.Add(f, h)
		if s.n != 1 || attach.Find(f) != h {
			t.Fatalf("hook on a settled future told %d times, found: %v", s.n, attach.Find(f) == h)
		}
	})
	t.Run("none", func(t *testing.T) {
		if h := attach.Find(NewPromise[int]().Future()); h != nil {
			t.Fatalf("Find on a future without a hook = %p", h)
		}
	})
}
