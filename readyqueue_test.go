package async

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The ready queue against a model: a slice of slots (nil for a task taken out
// of turn), whose final element may be the newest task, kept outside the
// ring. Random pushes, head pops, seeded pops (the head slot moves into the
// gap) and removals, through ring growth; every pop must return the model's.
func TestReadyQueueMatchesModel(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		var q readyQueue
		var slots []*loopTask
		lastOut := false // slots' final element is q.last
		live := func() (n int) {
			for _, lt := range slots {
				if lt != nil {
					n++
				}
			}
			return n
		}
		for step := range 500 {
			switch op := r.IntN(10); {
			case op < 5:
				lt := &loopTask{queued: true}
				q.push(lt)
				slots = append(slots, lt)
				lastOut = true
			case op < 8 && len(slots) > 0:
				i := 0
				if op == 7 {
					i = r.IntN(len(slots))
				}
				if q.len() != len(slots) {
					t.Fatalf("seed %d step %d: len %d, model %d", seed, step, q.len(), len(slots))
				}
				var want *loopTask
				if ring := len(slots) - boolInt(lastOut); ring == 0 {
					want, slots, lastOut = slots[0], slots[:0], false
				} else {
					if i != 0 {
						lastOut = false // flushed into the ring
						slots[0], slots[i] = slots[i], slots[0]
					}
					want, slots = slots[0], slots[1:]
				}
				if got := q.pop(i); got != want {
					t.Fatalf("seed %d step %d: pop(%d) = %p, want %p", seed, step, i, got, want)
				}
				if want != nil && want.queued {
					t.Fatalf("seed %d step %d: a popped task is still queued", seed, step)
				}
			case live() > 0:
				var idx []int
				for k, lt := range slots {
					if lt != nil {
						idx = append(idx, k)
					}
				}
				k := idx[r.IntN(len(idx))]
				q.remove(slots[k])
				if lastOut && k == len(slots)-1 {
					slots, lastOut = slots[:k], false
				} else {
					slots[k] = nil
				}
			}
		}
		var want []*loopTask
		for _, lt := range slots {
			if lt != nil {
				want = append(want, lt)
			}
		}
		var drained []*loopTask
		for q.len() > 0 {
			if lt := q.pop(0); lt != nil {
				drained = append(drained, lt)
			}
		}
		if !slices.Equal(drained, want) {
			t.Fatalf("seed %d: drained %d tasks in another order than the model's %d", seed, len(drained), len(want))
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
