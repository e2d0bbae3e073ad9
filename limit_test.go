package async

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// gauge tracks how many children run at once.
type gauge struct{ now, max atomic.Int32 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (g *gauge) exit() { g.now.Add(-1) }

func TestLimitBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g gauge
		err := Run(bg, func(s *Scope) error {
			for i := range 100 {
				switch i % 3 {
				case 0:
					s.Go(func(ctx context.Context) error {
						g.enter()
						defer g.exit()
						return Sleep(ctx, time.Millisecond)
					})
				case 1:
					Spawn(s, func(ctx context.Context) (int, error) {
						g.enter()
						defer g.exit()
						return i, Sleep(ctx, time.Millisecond)
					})
				case 2:
					if err := s.Start(func(ctx context.Context, ready func()) error {
						g.enter()
						defer g.exit()
						ready()
						return Sleep(ctx, time.Millisecond)
					}); err != nil {
						return err
					}
				}
			}
			return nil
		}, Limit(3))
		if err != nil {
			t.Fatal(err)
		}
		if m := g.max.Load(); m != 3 {
			t.Fatalf("at most %d children ran at once; want 3", m)
		}
	})
}

// fill starts n blocked children on a scope with Limit(n) and n more that
// wait in the handoff, so that the next Go blocks. It returns the channel
// that releases them and a counter of children that ran.
func fill(s *Scope, n int) (release chan struct{}, ran *atomic.Int32) {
	release = make(chan struct{})
	ran = new(atomic.Int32)
	for range 2 * n {
		s.Go(func(ctx context.Context) error {
			ran.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
	}
	return release, ran
}

func TestLimitGoBlocksForASlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScope(bg, Limit(2))
		release, ran := fill(s, 2)
		synctest.Wait()
		if n := ran.Load(); n != 2 {
			t.Fatalf("%d children started; want 2", n)
		}
		gone := make(chan struct{})
		go func() {
			s.Go(func(context.Context) error { ran.Add(1); return nil })
			close(gone)
		}()
		synctest.Wait()
		if returned(gone) {
			t.Fatal("Go returned with every worker busy and the handoff full")
		}
		if s.TryGo(func(context.Context) error { t.Error("TryGo's child ran"); return nil }) {
			t.Fatal("TryGo = true with no room")
		}
		close(release)
		<-gone
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
		if n := ran.Load(); n != 5 {
			t.Fatalf("%d children ran; want 5", n)
		}
	})
}

func TestLimitBlockedGoGivesUpWhenScopeFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScope(bg, Limit(1))
		release, ran := fill(s, 1)
		_ = release
		synctest.Wait()
		gone := make(chan struct{})
		var lateRan atomic.Bool
		go func() {
			s.Go(func(context.Context) error { lateRan.Store(true); return nil })
			close(gone)
		}()
		synctest.Wait()
		if returned(gone) {
			t.Fatal("Go did not block")
		}
		// A failure elsewhere (here: Run-like owner code) ends the scope.
		s.fail(errA, false, false)
		<-gone // gave up: no deadlock for a failing caller
		err := s.Wait()
		if err != errA {
			t.Fatalf("Wait = %v; want errA only (dropped children are fallout)", err)
		}
		if lateRan.Load() {
			t.Fatal("a child blocked in Go ran after the scope's context ended")
		}
		if n := ran.Load(); n != 1 {
			t.Fatalf("%d children ran; want 1 (the waiting one is dropped)", n)
		}
	})
}

func TestLimitBlockedGoGivesUpWhenParentEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(bg)
		s := NewScope(parent, Limit(1))
		fill(s, 1)
		var spawned *Future[int]
		var startErr error
		gone := make(chan struct{})
		go func() {
			defer close(gone)
			spawned = Spawn(s, value(7))
			startErr = s.Start(func(context.Context, func()) error { return nil })
		}()
		synctest.Wait()
		if returned(gone) {
			t.Fatal("Spawn did not block")
		}
		cancel()
		<-gone
		if _, err := spawned.Await(bg); !errors.Is(err, context.Canceled) {
			t.Fatalf("dropped future = %v; want context.Canceled", err)
		}
		if !errors.Is(startErr, context.Canceled) {
			t.Fatalf("dropped Start = %v; want context.Canceled", startErr)
		}
		if err := s.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v; want the parent's error", err)
		}
	})
}

func TestLimitTryGo(t *testing.T) {
	s := NewScope(bg, Limit(1))
	ran := make(chan struct{}, 2)
	if !s.TryGo(func(context.Context) error { ran <- struct{}{}; return nil }) {
		t.Fatal("TryGo = false with a free worker")
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 {
		t.Fatal("TryGo's child did not run")
	}
	u := NewScope(bg)
	if !u.TryGo(func(context.Context) error { return errB }) {
		t.Fatal("TryGo = false without a limit")
	}
	if err := u.Wait(); err != errB {
		t.Fatalf("Wait = %v", err)
	}
}

func TestLimitWorkersExitAtWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewScope(bg, Limit(4))
		for range 20 {
			s.Go(func(context.Context) error { return nil })
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
		// synctest.Test fails if a worker outlives the bubble's function.
	})
}

func TestScopeThousandSleepers(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  []ScopeOption
		total time.Duration
	}{
		{"unlimited", nil, time.Millisecond},
		{"limit8", []ScopeOption{Limit(8)}, 125 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n atomic.Int32
				start := time.Now()
				err := Run(bg, func(s *Scope) error {
					for range 1000 {
						s.Go(func(ctx context.Context) error {
							if err := Sleep(ctx, time.Millisecond); err != nil {
								return err
							}
							n.Add(1)
							return nil
						})
					}
					return nil
				}, c.opts...)
				if err != nil {
					t.Fatal(err)
				}
				if n.Load() != 1000 {
					t.Fatalf("%d of 1000 children finished", n.Load())
				}
				// Virtual time: exact, not a timing assertion on a real clock.
				if d := time.Since(start); d != c.total {
					t.Fatalf("took %v of virtual time; want %v", d, c.total)
				}
			})
		})
	}
}
