package async

import "github.com/goasync/async/internal/attach"

// A hookWaiter is a hook that a package of this module attached to a
// future (see internal/attach): a waiter told like an AfterSettle hook, and
// kept by the future after it settles, so that it can be found again.
type hookWaiter attach.Hook

func (h *hookWaiter) notify(*task) {
	s := h.Settler
	h.Settler = nil // only the settling goroutine reads or writes it now
	if s != nil {
		s.Settled()
	}
}

// A futureCore is a Future of any type.
type futureCore interface{ core() *task }

func (f *Future[T]) core() *task { return &f.t }

func init() {
	attach.Add = attachHook
	attach.Find = findHook
}

func attachHook(f any, h *attach.Hook) {
	t := f.(futureCore).core()
	w := (*hookWaiter)(h)
	t.mu.Lock()
	if t.watch() {
		if t.w1 == nil {
			t.w1 = w // kept, for findHook
		}
		t.mu.Unlock()
		w.notify(t)
		return
	}
	t.place(w)
	t.mu.Unlock()
}

func findHook(f any) *attach.Hook {
	t := f.(futureCore).core()
	t.mu.Lock()
	defer t.mu.Unlock()
	var more []waiter
	if x := t.x.Load(); x != nil {
		more = x.more
	}
	return (*attach.Hook)(hookAmong(t.w1, more))
}

// hookAmong returns the first hook among a task's waiters: first, possibly
// a pair, then more. The caller holds the task's mu.
func hookAmong(first waiter, more []waiter) *hookWaiter {
	switch w := first.(type) {
	case *hookWaiter:
		return w
	case *waiterPair:
		if h, ok := w.a.(*hookWaiter); ok {
			return h
		}
		if h, ok := w.b.(*hookWaiter); ok {
			return h
		}
	}
	for _, w := range more {
		if h, ok := w.(*hookWaiter); ok {
			return h
		}
	}
	return nil
}
