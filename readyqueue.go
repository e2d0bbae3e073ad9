package async

import "sync"

// readyQueue is a ring of ready tasks. Positions are counted from the
// start and wrap around; a task knows its position, so a task taken out of
// turn (awaited before it started) leaves an empty slot, which is skipped.
// The newest task waits in last, outside the ring, until another comes: a
// child started and at once awaited (run in its parent's turn) touches no
// slot.
type readyQueue struct {
	buf        []*loopTask // len is a power of two
	head, tail uint32
	last       *loopTask
}

// ringPool keeps the rings of loops that ended, for the next loop.
var ringPool sync.Pool

func (q *readyQueue) len() int {
	n := int(q.tail - q.head)
	if q.last != nil {
		n++
	}
	return n
}

func (q *readyQueue) push(lt *loopTask) {
	if q.last != nil {
		q.ringPush(q.last)
	}
	q.last = lt
}

func (q *readyQueue) ringPush(lt *loopTask) {
	if int(q.tail-q.head) == len(q.buf) {
		var buf []*loopTask
		if len(q.buf) == 0 {
			if b, ok := ringPool.Get().(*[]*loopTask); ok {
				buf = *b
			}
		}
		if len(buf) == 0 {
			buf = make([]*loopTask, max(16, 2*len(q.buf)))
		}
		for p := q.head; p != q.tail; p++ {
			buf[p&uint32(len(buf)-1)] = q.buf[p&uint32(len(q.buf)-1)]
		}
		q.buf = buf
	}
	lt.pos = q.tail
	q.buf[q.tail&uint32(len(q.buf)-1)] = lt
	q.tail++
}

// pop removes the entry i places after the head (moving the head entry into
// its place) and returns its task, or nil for an empty slot.
func (q *readyQueue) pop(i int) *loopTask {
	switch {
	case q.head == q.tail: // the newest is the only one (and i is 0)
		lt := q.last
		q.last = nil
		lt.queued = false
		return lt
	case i != 0 && q.last != nil: // a seeded pick chooses among all
		q.ringPush(q.last)
		q.last = nil
	}
	mask := uint32(len(q.buf) - 1)
	h := q.head & mask
	if i != 0 {
		j := (q.head + uint32(i)) & mask
		q.buf[h], q.buf[j] = q.buf[j], q.buf[h]
		if lt := q.buf[j]; lt != nil {
			lt.pos = q.head + uint32(i)
		}
	}
	lt := q.buf[h]
	q.buf[h] = nil
	q.head++
	if lt != nil {
		lt.queued = false
	}
	return lt
}

// remove takes lt, which must be queued, out of the queue.
func (q *readyQueue) remove(lt *loopTask) {
	if q.last == lt {
		q.last = nil
	} else {
		q.buf[lt.pos&uint32(len(q.buf)-1)] = nil
	}
	lt.queued = false
}

// release gives the ring, empty once every task has finished, to the next
// loop (up to a million slots).
func (q *readyQueue) release() {
	if buf := q.buf; len(buf) > 0 && len(buf) <= 1<<20 {
		clear(buf)
		ringPool.Put(&buf)
	}
	q.buf = nil
}
