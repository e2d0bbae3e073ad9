// Package progress serialises progress reports from concurrent workers, for
// the Progress option of async.Map, async.ForEach and package stream.
package progress

import (
	"sync"
	"sync/atomic"
)

// A Reporter counts finished items and calls fn with the count. Calls to fn
// come from one goroutine at a time and their done values only grow, so fn
// may drive a progress bar without locking. Not every count is reported:
// when several items finish together, the reporter may skip straight to the
// latest, but the last count is always reported before the last Add returns.
type Reporter struct {
	done  atomic.Int64
	grown atomic.Int64 // added to total by Grow
	mu    sync.Mutex   // held while fn runs
	last  int64        // guarded by mu
	lastT int64        // guarded by mu
	total int
	fn    func(done, total int)
}

// New returns a reporter for total items (-1 when unknown; 0 for a total
// that grows with Grow), or nil if fn is nil; a nil *Reporter ignores Start,
// Add and Grow.
func New(fn func(done, total int), total int) *Reporter {
	if fn == nil {
		return nil
	}
	return &Reporter{fn: fn, total: total, lastT: int64(total)}
}

// Start reports (0, total). Call it before any Add.
func (r *Reporter) Start() {
	if r != nil {
		r.fn(0, r.total)
	}
}

// Add counts one finished item and reports the count, unless another
// goroutine is reporting right now: that goroutine then reports it.
func (r *Reporter) Add() {
	if r == nil {
		return
	}
	r.done.Add(1)
	r.report()
}

// AddN counts n finished items.
func (r *Reporter) AddN(n uint64) {
	if r == nil || n == 0 {
		return
	}
	r.done.Add(int64(n))
	r.report()
}

// Grow counts one more item in the total (items that start as they come,
// such as a scope's children) and reports it.
func (r *Reporter) Grow() {
	if r == nil {
		return
	}
	r.grown.Add(1)
	r.report()
}

func (r *Reporter) report() {
	// Whoever holds mu rechecks the counts after unlocking, so an update
	// whose TryLock fails is never lost: its increment happened before the
	// holder's Unlock and so before the holder's recheck.
	for r.mu.TryLock() {
		// Total first: an item is counted in the total before it is done,
		// so done never appears above total.
		t := int64(r.total) + r.grown.Load()
		d := r.done.Load()
		if d > r.last || t > r.lastT {
			r.last, r.lastT = d, t
			r.fn(int(d), int(t))
		}
		r.mu.Unlock()
		if r.done.Load() == d && int64(r.total)+r.grown.Load() == t {
			return
		}
	}
}
