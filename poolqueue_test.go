package async

import (
	"sync"
	"testing"
)

// numberedJob is a queue item's job that only carries a number, to check
// order.
type numberedJob int

func (numberedJob) run(*Pool) (bool, bool) { return false, false }

func queueItem(i int) poolJob { return numberedJob(i) }

func itemID(j poolJob) int { return int(j.(numberedJob)) }

// checkedQueue runs ops on a poolQueue and on a slice, and fails when they
// disagree. Each op byte pushes (even) or pops (odd); a zero releases.
func checkedQueue(t *testing.T, ops []byte) {
	var q poolQueue
	var mu sync.Mutex // stands for the Pool's mu
	var model []int
	next := 0
	for _, op := range ops {
		mu.Lock()
		switch {
		case op == 0:
			q.release()
			if len(model) == 0 && q.head != nil {
				t.Fatal("release kept the segments of an empty queue")
			}
		case op%2 == 0:
			// Either end may add: tryPush needs a segment, push makes one.
			if op%4 == 0 || !q.tryPush(queueItem(next)) {
				q.push(queueItem(next))
			}
			model = append(model, next)
			next++
		default:
			j, ok := q.pop()
			if ok != (len(model) > 0) {
				t.Fatalf("pop ok = %v with %d queued", ok, len(model))
			}
			if ok {
				if got := itemID(j); got != model[0] {
					t.Fatalf("pop = %d; want %d", got, model[0])
				}
				model = model[1:]
			}
		}
		if q.len() != len(model) {
			t.Fatalf("len = %d; want %d", q.len(), len(model))
		}
		mu.Unlock()
	}
}

func TestPoolQueueFIFO(t *testing.T) {
	ops := make([]byte, 0, 5000)
	for range 3 * poolSegLen { // across several segments
		ops = append(ops, 2)
	}
	for range 2 * poolSegLen {
		ops = append(ops, 1, 2, 1)
	}
	for range 3 * poolSegLen {
		ops = append(ops, 1)
	}
	ops = append(ops, 0, 2, 2, 1, 0, 1, 1, 0)
	checkedQueue(t, ops)
}

func FuzzPoolQueue(f *testing.F) {
	f.Add([]byte{2, 2, 1, 0, 1, 1})
	f.Add(make([]byte, 300))
	f.Fuzz(func(t *testing.T, ops []byte) {
		// Stretch each op so that short inputs cross segment bounds.
		long := make([]byte, 0, len(ops)*8)
		for _, op := range ops {
			n := 1
			if op != 0 {
				n = int(op>>4) * 8
			}
			for range max(n, 1) {
				long = append(long, op)
			}
		}
		checkedQueue(t, long)
	})
}

// Submitters adding while a worker takes: every item arrives once, and each
// submitter's items in the order it added them.
func TestPoolQueueConcurrent(t *testing.T) {
	const adders, each = 4, 3 * poolSegLen
	var q poolQueue
	var mu sync.Mutex
	mu.Lock()
	q.push(queueItem(-1)) // the first segment, as a Pool's first queued task makes it
	mu.Unlock()
	var wg sync.WaitGroup
	for a := range adders {
		wg.Go(func() {
			for i := range each {
				if !q.tryPush(queueItem(a*each + i)) {
					t.Error("tryPush refused on an open queue")
					return
				}
			}
		})
	}
	last := make([]int, adders)
	for i := range last {
		last[i] = -1
	}
	got := 0
	for got < adders*each+1 {
		mu.Lock()
		j, ok := q.pop()
		mu.Unlock()
		if !ok {
			continue
		}
		got++
		id := itemID(j)
		if id < 0 {
			continue
		}
		a := id / each
		if id <= last[a] {
			t.Fatalf("item %d after %d from the same submitter", id, last[a])
		}
		last[a] = id
	}
	wg.Wait()
	q.shutDown()
	if q.tryPush(queueItem(0)) {
		t.Fatal("tryPush accepted after shutDown")
	}
}
