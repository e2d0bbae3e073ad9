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
	mu    sync.Mutex // held while fn runs
	last  int64      // guarded by mu
	total int
	fn    func(done, total int)
}

// New returns a reporter for total items (-1 when unknown), or nil if fn is
// nil; a nil *Reporter ignores Start and Add.
func New(fn func(done, total int), total int) *Reporter {
	if fn == nil {
		return nil
	}
	return &Reporter{fn: fn, total: total}
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
	// Whoever holds mu rechecks the count after unlocking, so an Add whose
	// TryLock fails is never lost: its increment happened before the holder's
	// Unlock and so before the holder's recheck.
	for r.mu.TryLock() {
		d := r.done.Load()
		if d > r.last {
			r.last = d
			r.fn(int(d), r.total)
		}
		r.mu.Unlock()
		if r.done.Load() == d {
			return
		}
	}
}
