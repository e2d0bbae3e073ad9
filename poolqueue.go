package async

import (
	"sync"
	"sync/atomic"
)

// poolQueue is a Pool's first-in first-out queue of accepted tasks waiting
// for a worker. Its two ends have separate locks: submitters add under the
// queue's own tmu, workers take under the Pool's mu. A submitter adding to a
// long queue and a worker taking from it then share no lock, only the
// segment they both touch.
//
// The queue is a list of fixed-size segments: a queued task costs its item
// and no more (a ring that doubles costs up to twice that). Drained segments
// are kept for reuse, so a pool that queues the same number of tasks again
// and again allocates nothing for them, until the queue gives its memory
// back when the pool is idle (release).
type poolQueue struct {
	// The taking end, guarded by the Pool's mu.
	head  *poolSeg // nil while the queue holds no segment
	hi    int32    // index in head of the next item to take
	avail int32    // items in head known to be added: head.n is read again only past them

	_ [64]byte // the two ends on different cache lines

	// The adding end, guarded by tmu. tail is atomic only so that the
	// taking end can read where the queue ends (len).
	tmu  sync.Mutex
	tail atomic.Pointer[poolSeg]
	shut bool                    // set by Pool.Close: submitters take the Pool's lock
	free atomic.Pointer[poolSeg] // drained segments for the adding end to reuse, linked by next

	_ [64]byte
}

// poolSegLen is how many tasks a segment holds: 2 KiB of items, which keeps
// the allocation of a new segment rare and a mostly empty one small.
const poolSegLen = 128

type poolSeg struct {
	base  int64                   // position in the queue of items[0]
	n     atomic.Int32            // items added; written by the adding end only
	next  atomic.Pointer[poolSeg] // set once this segment is full
	items [poolSegLen]poolJob
}

// tryPush adds j unless the queue holds no segment or is shut; the caller
// holds only tmu's side (the Pool's mu is not needed).
func (q *poolQueue) tryPush(j poolJob) bool {
	q.tmu.Lock()
	if q.shut || q.tail.Load() == nil {
		q.tmu.Unlock()
		return false
	}
	q.add(j)
	q.tmu.Unlock()
	return true
}

// push adds j. The caller holds the Pool's mu, so the queue may start its
// first segment.
func (q *poolQueue) push(j poolJob) {
	q.tmu.Lock()
	if q.tail.Load() == nil {
		s := q.newSeg(0)
		q.head, q.hi, q.avail = s, 0, 0
		q.tail.Store(s)
	}
	q.add(j)
	q.tmu.Unlock()
}

// add appends j at the tail; tmu is held and the queue has a segment.
func (q *poolQueue) add(j poolJob) {
	s := q.tail.Load()
	i := s.n.Load()
	if i == poolSegLen {
		ns := q.newSeg(s.base + poolSegLen)
		s.next.Store(ns) // publishes base; the adding end is done with s
		q.tail.Store(ns)
		s, i = ns, 0
	}
	s.items[i] = j
	s.n.Store(i + 1) // publishes the item to the taking end
}

// newSeg takes a drained segment or makes one; tmu is held. The adding end
// alone takes from free, so a segment it has seen at the top cannot leave and
// come back meanwhile (no ABA).
func (q *poolQueue) newSeg(base int64) *poolSeg {
	for {
		s := q.free.Load()
		if s == nil {
			s = new(poolSeg)
			s.base = base
			return s
		}
		if q.free.CompareAndSwap(s, s.next.Load()) {
			s.next.Store(nil)
			s.base = base
			return s
		}
	}
}

// recycle gives the drained segment s, which the adding end has left, to
// free; the Pool's mu is held.
func (q *poolQueue) recycle(s *poolSeg) {
	s.n.Store(0)
	for {
		top := q.free.Load()
		s.next.Store(top)
		if q.free.CompareAndSwap(top, s) {
			return
		}
	}
}

// pop takes the item at the head; the Pool's mu is held.
func (q *poolQueue) pop() (poolJob, bool) {
	s := q.head
	if s == nil {
		return nil, false
	}
	if q.hi == poolSegLen {
		ns := s.next.Load()
		if ns == nil {
			return nil, false
		}
		q.recycle(s) // the adding end moved on to ns before publishing it
		q.head, q.hi, q.avail, s = ns, 0, 0, ns
	}
	if q.hi >= q.avail {
		// Reading n once for many items spares the cache line the
		// adding end writes on every push.
		if q.avail = s.n.Load(); q.hi >= q.avail {
			return nil, false
		}
	}
	j := s.items[q.hi]
	s.items[q.hi] = nil // do not keep the task reachable
	q.hi++
	return j, true
}

// len returns how many items are queued; the Pool's mu is held. Items being
// added meanwhile may or may not be counted.
func (q *poolQueue) len() int {
	if q.head == nil {
		return 0
	}
	t := q.tail.Load()
	return int(t.base + int64(t.n.Load()) - q.head.base - int64(q.hi))
}

// release drops the queue's segments if it is empty, so that an idle pool
// holds no memory for the queue it once had; the next push starts afresh.
// The Pool's mu is held.
func (q *poolQueue) release() {
	if q.head == nil {
		return
	}
	q.tmu.Lock()
	if q.len() == 0 {
		q.head, q.hi, q.avail = nil, 0, 0
		q.tail.Store(nil)
		q.free.Store(nil)
	}
	q.tmu.Unlock()
}

// shutDown makes tryPush refuse from now on. Once it returns, every item a
// tryPush added is visible to the taking end.
func (q *poolQueue) shutDown() {
	q.tmu.Lock()
	q.shut = true
	q.tmu.Unlock()
}
