package async

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestPromiseFirstSettlementWins(t *testing.T) {
	p := NewPromise[int]()
	if !p.Resolve(1) {
		t.Fatal("first Resolve reported false")
	}
	if p.Resolve(2) || p.Reject(errors.New("late")) {
		t.Fatal("a later settlement reported true")
	}
	if v, err := p.Future().Await(bg); v != 1 || err != nil {
		t.Fatalf("got %v, %v", v, err)
	}
}

func TestPromiseConcurrentSettlers(t *testing.T) {
	for range 50 {
		p := NewPromise[int]()
		var wins sync.WaitGroup
		won := make(chan int, 16)
		for i := range 16 {
			wins.Add(1)
			go func() {
				defer wins.Done()
				ok := false
				if i%2 == 0 {
					ok = p.Resolve(i)
				} else {
					ok = p.Reject(errors.New("r"))
				}
				if ok {
					won <- i
				}
			}()
		}
		wins.Wait()
		close(won)
		n := 0
		var winner int
		for w := range won {
			winner = w
			n++
		}
		if n != 1 {
			t.Fatalf("%d settlers won; want exactly 1", n)
		}
		v, err := p.Future().Await(bg)
		if winner%2 == 0 && (v != winner || err != nil) || winner%2 == 1 && err == nil {
			t.Fatalf("winner %d but future holds %v, %v", winner, v, err)
		}
	}
}

func TestPromiseCancelRejects(t *testing.T) {
	p := NewPromise[int]()
	p.Future().Cancel()
	if _, err := p.Future().Await(bg); !errors.Is(err, ErrCanceled) {
		t.Fatalf("got %v", err)
	}
	if p.Resolve(1) {
		t.Fatal("Resolve after Cancel reported true")
	}
	q := NewPromise[int]()
	q.Resolve(3)
	q.Future().Cancel()
	if v, _ := q.Future().Await(bg); v != 3 {
		t.Fatal("Cancel changed a settled promise's future")
	}
}

func TestPromiseMisuse(t *testing.T) {
	mustPanic(t, "Reject(nil)", func() { NewPromise[int]().Reject(nil) })
	mustPanic(t, "zero Promise", func() { new(Promise[int]).Resolve(1) })
	mustPanic(t, "zero Promise", func() { (*Promise[int])(nil).Future() })
}

func TestPromiseAfterSettle(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		p := NewPromise[int]()
		var ran atomic.Int32
		p.AfterSettle(func() { ran.Add(1) })
		p.Future().Cancel()
		if ran.Load() != 1 {
			t.Fatalf("hook ran %d times after Cancel, want 1 (before Cancel returns)", ran.Load())
		}
		if p.Resolve(1) || ran.Load() != 1 {
			t.Fatal("a settled promise resolved again, or the hook ran twice")
		}
	})
	t.Run("already settled", func(t *testing.T) {
		p := NewPromise[int]()
		p.Reject(errors.New("boom"))
		ran := false
		stop := p.AfterSettle(func() { ran = true })
		if !ran || stop() {
			t.Fatalf("hook on a settled promise: ran=%v, stop reported true", ran)
		}
		_, _ = p.Future().Await(bg)
	})
	t.Run("stopped", func(t *testing.T) {
		p := NewPromise[int]()
		ran := false
		stop := p.AfterSettle(func() { ran = true })
		if !stop() || stop() {
			t.Fatal("first stop should report true, the second false")
		}
		p.Resolve(1)
		if ran {
			t.Fatal("a stopped hook ran")
		}
	})
	t.Run("does not observe", func(t *testing.T) {
		p := NewPromise[int]()
		p.AfterSettle(func() {})
		p.Reject(errors.New("unseen"))
		if p.f.t.state.Load()&stHandled != 0 {
			t.Fatal("AfterSettle marked the failure observed")
		}
		_, _ = p.Future().Await(bg)
	})
	t.Run("nil", func(t *testing.T) {
		defer func() {
			if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "async: ") {
				t.Fatalf("recovered %v, want an async: panic", r)
			}
		}()
		NewPromise[int]().AfterSettle(nil)
	})
}
