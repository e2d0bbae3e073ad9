package async

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
)

// A Queue is a FIFO queue of values of type T shared by any number of
// goroutines, like a buffered channel whose waits honour a context and whose
// Close never panics a sender: [Queue.Put] blocks while the queue is full
// until there is room or its ctx ends, [Queue.Get] blocks until there is an
// item, its ctx ends, or the queue is closed and drained.
//
// Blocked Puts and Gets are served in the order they arrived. Every item
// whose Put returned nil is delivered by exactly one Get, even after
// [Queue.Close]. A Queue comes from [NewQueue]; it must not be copied.
type Queue[T any] struct {
	mu      sync.Mutex
	buf     []T // ring buffer of cap items, head first
	head    int
	n       int
	closed  bool
	getters waitList[T]                // Gets waiting for an item; only when n == 0
	putters waitList[T]                // Puts waiting for room; only when n == len(buf)
	spare   atomic.Pointer[qwaiter[T]] // a loop task's waiter kept for reuse
}

// NewQueue returns an empty queue that holds up to capacity items. With
// capacity 0 the queue is a rendezvous, like an unbuffered channel: a Put
// returns once a Get has taken its item. NewQueue panics if capacity < 0.
func NewQueue[T any](capacity int) *Queue[T] {
	if capacity < 0 {
		panic(fmt.Sprintf("async: NewQueue(%d): capacity must not be negative", capacity))
	}
	return &Queue[T]{buf: make([]T, capacity)}
}

// Put adds v at the tail of q. If q is full, Put blocks until a Get makes
// room or ctx ends, whichever is first. It returns nil once v is in the
// queue (or, with capacity 0, taken by a Get); [ErrClosed] if q is closed,
// including while Put was blocked; or, if ctx ended first, an error matching
// ctx.Err() and its cause, and then v was not added. A Put that can finish
// without blocking does so even if ctx has ended.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	checkCtx("Queue.Put", ctx)
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	if q.offer(v) {
		q.mu.Unlock()
		return nil
	}
	w := q.newWaiter(ctx)
	w.v = v
	q.putters.push(w)
	q.mu.Unlock()

	rec := blockBegin(ctx, "Queue.Put", "", 0)
	_, err, ok := q.park(ctx, w)
	blockEnd(rec)
	if ok {
		return err
	}
	q.mu.Lock()
	if w.settled.Load() { // a Get or Close reached it as ctx ended
		q.mu.Unlock()
		return w.err
	}
	q.putters.remove(w)
	q.mu.Unlock()
	return ctxError(ctx)
}

// TryPut adds v at the tail of q if that needs no waiting, and reports
// whether it did. It returns false if q is full or closed.
func (q *Queue[T]) TryPut(v T) bool {
	q.mu.Lock()
	ok := !q.closed && q.offer(v)
	q.mu.Unlock()
	return ok
}

// offer hands v to the first waiting Get or appends it to the buffer, and
// reports whether either was possible. q.mu is held and q is open.
func (q *Queue[T]) offer(v T) bool {
	if g := q.getters.pop(); g != nil {
		g.v = v
		g.settle(nil)
		return true
	}
	if q.n < len(q.buf) {
		i := q.head + q.n
		if i >= len(q.buf) {
			i -= len(q.buf)
		}
		q.buf[i] = v
		q.n++
		return true
	}
	return false
}

// Get removes and returns the item at the head of q. If q is empty, Get
// blocks until a Put adds one or ctx ends, whichever is first. It returns
// [ErrClosed] once q is closed and every item put before [Queue.Close] has
// been taken; if ctx ends first, it returns an error matching ctx.Err() and
// its cause and takes nothing. A Get that can finish without blocking does
// so even if ctx has ended.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	checkCtx("Queue.Get", ctx)
	q.mu.Lock()
	if v, ok := q.take(); ok {
		q.mu.Unlock()
		return v, nil
	}
	var zero T
	if q.closed {
		q.mu.Unlock()
		return zero, ErrClosed
	}
	w := q.newWaiter(ctx)
	q.getters.push(w)
	q.mu.Unlock()

	rec := blockBegin(ctx, "Queue.Get", "", 0)
	v, err, ok := q.park(ctx, w)
	blockEnd(rec)
	if ok {
		return v, err
	}
	q.mu.Lock()
	if w.settled.Load() { // a Put or Close reached it as ctx ended
		q.mu.Unlock()
		return w.v, w.err
	}
	q.getters.remove(w)
	q.mu.Unlock()
	return zero, ctxError(ctx)
}

// TryGet removes and returns the item at the head of q if there is one
// without waiting; ok is false if q is empty.
func (q *Queue[T]) TryGet() (v T, ok bool) {
	q.mu.Lock()
	v, ok = q.take()
	q.mu.Unlock()
	return v, ok
}

// take removes the head item, refilling the buffer from the first waiting
// Put (or, with capacity 0, taking that Put's item directly). q.mu is held.
func (q *Queue[T]) take() (T, bool) {
	var zero T
	if q.n == 0 {
		p := q.putters.pop()
		if p == nil {
			return zero, false
		}
		v := p.v
		p.v = zero
		p.settle(nil)
		return v, true
	}
	v := q.buf[q.head]
	q.buf[q.head] = zero // do not keep the item reachable
	if q.head++; q.head == len(q.buf) {
		q.head = 0
	}
	q.n--
	if p := q.putters.pop(); p != nil {
		q.offer(p.v)
		p.v = zero
		p.settle(nil)
	}
	return v, true
}

// Close stops q from accepting items: Puts from then on, and Puts blocked
// now, return [ErrClosed]. Items already in q stay there for Get; Gets
// return ErrClosed once it is empty, and Gets blocked now (q is empty) return
// it at once. Close does not block; closing a closed queue does nothing.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	var zero T
	for p := q.putters.pop(); p != nil; p = q.putters.pop() {
		p.v = zero
		p.settle(ErrClosed)
	}
	for g := q.getters.pop(); g != nil; g = q.getters.pop() {
		g.settle(ErrClosed)
	}
	q.mu.Unlock()
}

// Len returns the number of items in q, not counting those of blocked Puts.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	n := q.n
	q.mu.Unlock()
	return n
}

// All returns an iterator that takes items from q with Get, yielding each,
// until q is closed and drained or ctx ends. Breaking out of the loop takes
// no further item.
func (q *Queue[T]) All(ctx context.Context) iter.Seq[T] {
	checkCtx("Queue.All", ctx)
	return func(yield func(T) bool) {
		for {
			v, err := q.Get(ctx)
			if err != nil || !yield(v) {
				return
			}
		}
	}
}

// qwaiter is a blocked Put or Get. Whoever settles it (a Get, a Put or
// Close, holding q.mu) fills in v and err, marks it settled and wakes it.
type qwaiter[T any] struct {
	v          T             // the Put's item, or the item handed to the Get
	err        error         // nil or ErrClosed
	settled    atomic.Bool   // set under q.mu; a loop task reads it without
	wake       chan struct{} // capacity 1
	lt         *loopTask     // a loop task waiting: woken through its loop
	prev, next *qwaiter[T]
}

// newWaiter makes the waiter for a blocked Put or Get; q.mu is held. A loop
// task waits by giving its loop up and needs no channel, and its waiter is
// reused: in a loop, a ping-pong over a Queue does not allocate.
func (q *Queue[T]) newWaiter(ctx context.Context) *qwaiter[T] {
	if lt := runningLoopTask(ctx); lt != nil {
		if w := q.spare.Swap(nil); w != nil {
			w.lt = lt
			return w
		}
		return &qwaiter[T]{lt: lt}
	}
	return &qwaiter[T]{wake: make(chan struct{}, 1)}
}

// park waits until w is settled (ok, with w's item and error) or ctx ends
// (not ok; w may have been settled meanwhile: the caller rechecks under q.mu).
func (q *Queue[T]) park(ctx context.Context, w *qwaiter[T]) (v T, err error, ok bool) {
	if w.lt == nil {
		if park(ctx, w.wake, nil) {
			return w.v, w.err, true
		}
		return v, nil, false
	}
	settled := func() bool {
		if !w.settled.Load() {
			return false
		}
		// Whoever settled w is done with it (see settle), and so are we.
		v, err, ok = w.v, w.err, true
		*w = qwaiter[T]{}
		q.spare.Store(w)
		return true
	}
	w.lt.l.blockUntil(w.lt, ctx, settled)
	return v, err, ok
}

func (w *qwaiter[T]) settle(err error) {
	wake, lt := w.wake, w.lt
	w.err = err
	// A loop task's waiter may be reused as soon as settled is set: w is
	// not touched after.
	w.settled.Store(true)
	if lt != nil {
		lt.l.makeReady(lt)
	}
	if wake != nil {
		wake <- struct{}{}
	}
}

// waitList is a FIFO of waiters, a doubly linked list so that a waiter whose
// ctx ended can leave from the middle.
type waitList[T any] struct {
	head, tail *qwaiter[T]
}

func (l *waitList[T]) push(w *qwaiter[T]) {
	w.prev = l.tail
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
}

func (l *waitList[T]) pop() *qwaiter[T] {
	w := l.head
	if w != nil {
		l.remove(w)
	}
	return w
}

func (l *waitList[T]) remove(w *qwaiter[T]) {
	if w.prev == nil {
		l.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		l.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
}
