package async

import (
	"sync"
	"sync/atomic"
)

// A limiter runs a scope's children on at most n worker goroutines, started
// as children arrive and kept until Wait, so that a limited scope costs a
// goroutine per worker, not per child. Children wait for a worker in a
// buffered handoff of n: a producer that is ahead by one buffer blocks, and
// the workers drain the buffer without a wake-up per child. (An unbuffered
// handoff measured 0.55x errgroup.SetLimit; this one about 0.2x.)
type limiter struct {
	n       int32
	workers atomic.Int32    // started so far; they run until close
	work    chan scopeChild // the handoff
	// direct is an unbuffered handoff that only an idle worker receives
	// from (it waits on both), so TryGo succeeds only when fn starts at once.
	direct chan scopeChild
	wg     sync.WaitGroup // the workers, for close
}

func newLimiter(n int) *limiter {
	return &limiter{n: int32(n), work: make(chan scopeChild, n), direct: make(chan scopeChild)}
}

// dispatch hands a counted child to a worker, starting one if fewer than n
// exist. If the handoff is full it blocks, when block is set, until a worker
// takes the child or the scope's context ends; the child is then dropped and
// uncounted. Without block it hands c only to a worker that is idle (or new)
// and reports false if there is none.
func (l *limiter) dispatch(s *Scope, c scopeChild, block bool) bool {
	for {
		w := l.workers.Load()
		if w >= l.n {
			break
		}
		if l.workers.CompareAndSwap(w, w+1) {
			l.wg.Add(1)
			go l.worker(s, c)
			return true
		}
	}
	if !block {
		select {
		case l.direct <- c:
			return true
		default:
			return false
		}
	}
	select {
	case l.work <- c:
		return true
	default:
	}
	select {
	case l.work <- c:
	case <-s.done:
		c.drop(s)
		s.exit()
	}
	return true
}

// worker runs first, then children from the handoff until close. A child
// that waited while the scope's context ended is dropped, not started.
//
// A worker uncounts the children it ran in batches, when the handoff is
// empty, rather than one by one: the count is shared with the producer, and
// touching it per child costs more than the child. Wait cannot be fooled by
// the delay, since it needs the count at zero and a worker flushes before it
// blocks.
func (l *limiter) worker(s *Scope, c scopeChild) {
	var ran uint64 // run or dropped, not yet uncounted
	ok := false
	defer func() {
		if !ok {
			// A child called runtime.Goexit, which ends this goroutine
			// (the child uncounted itself); keep n workers.
			s.exitN(ran)
			l.wg.Add(1)
			go l.worker(s, nil)
		}
		l.wg.Done()
	}()
	if c != nil {
		c.run(s)
		ran++
	}
	for {
		var more bool
		select {
		case c, more = <-l.work:
		default:
			if ran > 0 {
				s.exitN(ran)
				ran = 0
			}
			select {
			case c, more = <-l.work:
			case c = <-l.direct:
				more = true
			}
		}
		if !more {
			break
		}
		select {
		case <-s.done:
			c.drop(s)
		default:
			c.run(s)
		}
		ran++
	}
	ok = true
}

// close stops the workers once every child has returned, and waits for them
// to exit.
func (l *limiter) close() {
	close(l.work)
	l.wg.Wait()
}
