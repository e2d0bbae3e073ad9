// Package vclock is a virtual clock: time stands still until Advance moves it
// to the next timer and fires that timer. Event loops with virtual time use
// it so that sleeping costs no real time and runs are reproducible.
package vclock

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is a virtual clock. Its zero value is not usable; use New.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers timerHeap
	seq    uint64
}

// New returns a clock reading start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arranges for f to be called by Advance once the clock reaches
// now+d. Timers due at the same instant fire in the order they were set.
// stop cancels the timer and reports whether it had not fired yet.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &timer{when: c.now.Add(d), seq: c.seq, f: f, index: -1}
	heap.Push(&c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.index < 0 {
			return false
		}
		heap.Remove(&c.timers, t.index)
		return true
	}
}

// Len reports how many timers are set.
func (c *Clock) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Advance moves the clock to the earliest timer and fires every timer due at
// that instant, in the order they were set, without holding the clock's lock.
// It reports whether any timer fired.
func (c *Clock) Advance() bool {
	c.mu.Lock()
	if len(c.timers) == 0 {
		c.mu.Unlock()
		return false
	}
	when := c.timers[0].when
	if when.After(c.now) {
		c.now = when
	}
	var due []*timer
	for len(c.timers) > 0 && !c.timers[0].when.After(c.now) {
		due = append(due, heap.Pop(&c.timers).(*timer))
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
	return true
}

type timer struct {
	when  time.Time
	seq   uint64
	f     func()
	index int
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
