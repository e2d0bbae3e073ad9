package async

import (
	"context"
	"errors"
	"flag"
	"sync"
	"testing"
	"time"
)

var stressFor = flag.Duration("async.stress", 0, "run the combinator/settlement stress for this long")

// TestSettleStress races combinators and Awaits against tasks that settle
// without their lock, promises settled from other goroutines, duplicates
// and failures, and checks every outcome and that nothing stays subscribed.
// Off unless -async.stress is set.
func TestSettleStress(t *testing.T) {
	if *stressFor == 0 {
		t.Skip("-async.stress not set")
	}
	deadline := time.Now().Add(*stressFor)
	boom := errors.New("boom")
	for iter := 0; time.Now().Before(deadline); iter++ {
		n := 2 + iter%6
		fs := make([]*Future[int], 0, n+2)
		var ps []*Promise[int]
		fails := 0
		for i := range n {
			switch (iter + i) % 5 {
			case 0:
				fs = append(fs, Go(bg, value(i)))
			case 1:
				p := NewPromise[int]()
				ps = append(ps, p)
				fs = append(fs, p.Future())
			case 2:
				fs = append(fs, Resolved(i))
			case 3:
				if iter%3 == 0 {
					fs = append(fs, Go(bg, failing[int](boom)))
					fails++
				} else {
					fs = append(fs, Go(bg, value(i)))
				}
			case 4:
				fs = append(fs, Go(bg, func(ctx context.Context) (int, error) {
					<-ctx.Done() // makes the context: the lock path
					return i, nil
				}, Timeout(time.Hour)))
				fs[len(fs)-1].Cancel()
			}
		}
		if iter%4 == 0 {
			fs = append(fs, fs[0]) // a duplicate
		}
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Add(1)
			go func() { defer wg.Done(); p.Resolve(7) }()
		}
		wg.Add(1)
		go func() { // Awaits and Done racing the settlements
			defer wg.Done()
			for _, f := range fs {
				<-f.Done()
			}
		}()
		switch iter % 4 {
		case 0:
			vals, err := All(bg, fs...)
			if fails > 0 || iter%3 == 0 && n > 4 {
				// a failure or a canceled task may be in the input
				if err == nil {
					for _, f := range fs {
						if _, e := f.Await(bg); e != nil {
							t.Fatalf("iter %d: All succeeded over a failed input: %v", iter, e)
						}
					}
				}
			} else if err == nil && len(vals) != len(fs) {
				t.Fatalf("iter %d: All = %d values for %d futures", iter, len(vals), len(fs))
			}
		case 1:
			_, _ = Any(bg, fs...)
		case 2:
			v, err := Race(bg, fs...)
			found := false
			for _, f := range fs {
				if r, ok := f.Peek(); ok && r.Value == v && r.Err == err {
					found = true
				}
			}
			if !found {
				t.Fatalf("iter %d: Race = %v, %v: no settled input has that outcome", iter, v, err)
			}
		case 3:
			rs, err := AllSettled(bg, fs...)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rs {
				if v, e := fs[i].Await(bg); v != r.Value || e != r.Err {
					t.Fatalf("iter %d: AllSettled[%d] = %v; Await = %v, %v", iter, i, r, v, e)
				}
			}
		}
		wg.Wait()
		for i, f := range fs {
			f.Await(bg)
			if c := waiterCount(&f.t); c != 0 {
				t.Fatalf("iter %d: %d waiters left on settled future %d", iter, c, i)
			}
		}
	}
}
