package progress

import (
	"sync"
	"testing"
)

func TestNilReporter(t *testing.T) {
	r := New(nil, 10)
	if r != nil {
		t.Fatal("New(nil) is not nil")
	}
	r.Start() // must not panic
	r.Add()
}

func TestReportsInOrderAndLast(t *testing.T) {
	const workers, per = 8, 1000
	var (
		calls    int
		last     = -1
		inside   bool
		problems []string
	)
	r := New(func(done, total int) {
		// fn runs under r.mu, so these plain variables are safe; the race
		// detector would flag two concurrent calls.
		if inside {
			problems = append(problems, "concurrent call")
		}
		inside = true
		if done <= last {
			problems = append(problems, "not increasing")
		}
		if total != workers*per {
			problems = append(problems, "wrong total")
		}
		if done > total {
			problems = append(problems, "done > total")
		}
		last = done
		calls++
		inside = false
	}, workers*per)
	r.Start()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				r.Add()
			}
		}()
	}
	wg.Wait()
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	if last != workers*per {
		t.Fatalf("last report %d, want %d", last, workers*per)
	}
	if calls < 2 {
		t.Fatalf("%d calls", calls)
	}
}
