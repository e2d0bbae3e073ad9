package async

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestRunLoopRunsMainAndWaitsForTasks(t *testing.T) {
	var finished []int
	err := RunLoop(bg, func(ctx context.Context) error {
		if !InLoop(ctx) {
			return errors.New("main is not in the loop")
		}
		for i := range 3 {
			Go(ctx, func(ctx context.Context) (int, error) {
				Yield(ctx)
				finished = append(finished, i) // no lock: one loop task at a time
				return i, nil
			})
		}
		return nil // RunLoop still waits for the three
	})
	if err != nil || len(finished) != 3 {
		t.Fatalf("err %v, finished %v", err, finished)
	}
	if InLoop(bg) {
		t.Fatal("InLoop outside any loop")
	}
}

// 1000 loop tasks mutate shared state without locks; -race finds no race,
// and at most one runs at any instant.
func TestLoopTasksNeverRunAtOnce(t *testing.T) {
	counter := 0
	running := 0
	maxRunning := 0
	err := RunLoop(bg, func(ctx context.Context) error {
		fs := make([]*Future[int], 1000)
		for i := range fs {
			fs[i] = Go(ctx, func(ctx context.Context) (int, error) {
				running++
				maxRunning = max(maxRunning, running)
				v := counter
				running--
				if err := Yield(ctx); err != nil {
					return 0, err
				}
				running++
				counter = v + 1 // a lost update if another task ran in between... but see below
				running--
				return i, nil
			})
		}
		_, err := All(ctx, fs...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if maxRunning != 1 {
		t.Fatalf("%d loop tasks ran at once", maxRunning)
	}
	// Every task read before yielding, so most updates were lost: the loop
	// makes code lock-free, not atomic across awaits. That is the lost-update
	// bug asynctest.Explore exists to find.
	if counter < 1 || counter > 1000 {
		t.Fatalf("counter %d", counter)
	}
}

func TestLoopAwaitChildren(t *testing.T) {
	var order []string
	err := RunLoop(bg, func(ctx context.Context) error {
		a := Go(ctx, func(ctx context.Context) (string, error) { order = append(order, "a"); return "a", nil })
		b := Go(ctx, func(ctx context.Context) (string, error) {
			v, err := a.Await(ctx)
			order = append(order, "b")
			return v + "b", err
		})
		v, err := b.Await(ctx)
		order = append(order, "main")
		if v != "ab" {
			return fmt.Errorf("got %q", v)
		}
		return err
	})
	if err != nil || !slices.Equal(order, []string{"a", "b", "main"}) {
		t.Fatalf("err %v order %v", err, order)
	}
}

func TestLoopFIFOOrder(t *testing.T) {
	var order []int
	RunLoop(bg, func(ctx context.Context) error {
		for i := range 5 {
			Go(ctx, func(ctx context.Context) (int, error) {
				order = append(order, i)
				Yield(ctx)
				order = append(order, 10+i)
				return 0, nil
			})
		}
		return nil
	})
	want := []int{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}
	if !slices.Equal(order, want) {
		t.Fatalf("order %v; want %v", order, want)
	}
}

// stepsUnder records the interleaving of 100 tasks' steps under a seed.
func stepsUnder(seed int64) []int {
	var steps []int
	RunLoop(bg, func(ctx context.Context) error {
		for i := range 100 {
			Go(ctx, func(ctx context.Context) (int, error) {
				for s := range 3 {
					steps = append(steps, i*10+s)
					if err := Yield(ctx); err != nil {
						return 0, err
					}
				}
				return 0, nil
			})
		}
		return nil
	}, Seed(seed))
	return steps
}

func TestSeedReproducesInterleaving(t *testing.T) {
	first := stepsUnder(42)
	if len(first) != 300 {
		t.Fatalf("%d steps", len(first))
	}
	for range 20 {
		if got := stepsUnder(42); !slices.Equal(got, first) {
			t.Fatal("the same seed gave a different interleaving")
		}
	}
	if slices.Equal(stepsUnder(43), first) {
		t.Fatal("different seeds gave the same interleaving")
	}
}

func TestVirtualTime(t *testing.T) {
	start := time.Now()
	var virtual time.Duration
	err := RunLoop(bg, func(ctx context.Context) error {
		t0 := Now(ctx)
		fs := make([]*Future[int], 1000)
		for i := range fs {
			fs[i] = Go(ctx, func(ctx context.Context) (int, error) { return i, Sleep(ctx, time.Hour) })
		}
		if _, err := All(ctx, fs...); err != nil {
			return err
		}
		virtual = Now(ctx).Sub(t0)
		return nil
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if virtual != time.Hour {
		t.Fatalf("virtual time passed %v; want 1h", virtual)
	}
	if real := time.Since(start); real > time.Minute {
		t.Fatalf("took %v of real time", real) // a failing run, not a timing assertion
	}
}

func TestVirtualTimeoutAndOrdering(t *testing.T) {
	var order []string
	err := RunLoop(bg, func(ctx context.Context) error {
		slow := Go(ctx, func(ctx context.Context) (int, error) {
			err := Sleep(ctx, 2*time.Hour)
			order = append(order, "slow woke")
			return 0, err
		}, Timeout(time.Hour))
		Go(ctx, func(ctx context.Context) (int, error) {
			Sleep(ctx, 30*time.Minute)
			order = append(order, "30m")
			return 0, nil
		})
		_, err := slow.Await(ctx)
		if !errors.Is(err, ErrTimeout) {
			return fmt.Errorf("slow: %v; want ErrTimeout", err)
		}
		return nil
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"30m", "slow woke"}) {
		t.Fatalf("order %v", order)
	}
}

func TestVirtualClockWaitsForOffload(t *testing.T) {
	err := RunLoop(bg, func(ctx context.Context) error {
		release := make(chan struct{})
		work := Offload(ctx, func(ctx context.Context) (string, error) {
			if InLoop(ctx) {
				return "", errors.New("offloaded work claims to be in the loop")
			}
			<-release // real work the clock must not jump past
			return "done", nil
		})
		timer := Go(ctx, func(ctx context.Context) (string, error) {
			return "timer", Sleep(ctx, time.Hour)
		})
		// The loop is idle but for the offload: the clock must not move.
		Go(ctx, func(ctx context.Context) (int, error) {
			if _, done := timer.Peek(); done {
				return 0, errors.New("the clock jumped past running offloaded work")
			}
			close(release)
			return 0, nil
		})
		v, err := Race(ctx, work, timer)
		if v != "done" || err != nil {
			return fmt.Errorf("race: %v %v", v, err)
		}
		timer.Cancel()
		return nil
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
}

func TestOffloadOutsideLoopIsGo(t *testing.T) {
	v, err := Offload(bg, value(3)).Await(bg)
	if v != 3 || err != nil {
		t.Fatal(v, err)
	}
}

func TestLoopMainFailureCancelsTasks(t *testing.T) {
	boom := errors.New("boom")
	var childErr error
	err := RunLoop(bg, func(ctx context.Context) error {
		Go(ctx, func(ctx context.Context) (int, error) {
			childErr = Sleep(ctx, time.Hour)
			return 0, nil
		})
		Yield(ctx)
		return boom
	})
	if err != boom {
		t.Fatalf("RunLoop = %v; want main's error", err)
	}
	if !errors.Is(childErr, context.Canceled) {
		t.Fatalf("child's sleep ended with %v; want the loop canceled", childErr)
	}
}

func TestLoopUnobservedTaskFailureIsTheLoops(t *testing.T) {
	boom := errors.New("boom")
	err := RunLoop(bg, func(ctx context.Context) error {
		Go(ctx, failing[int](boom)) // nobody awaits it
		return nil
	})
	if err != boom {
		t.Fatalf("RunLoop = %v; want the unobserved failure", err)
	}
	err = RunLoop(bg, func(ctx context.Context) error {
		_, err := Go(ctx, failing[int](boom)).Await(ctx)
		if err != boom {
			return errors.New("await lost the error")
		}
		return nil // handled
	})
	if err != nil {
		t.Fatalf("an observed failure failed the loop: %v", err)
	}
}

func TestLoopPanicInTask(t *testing.T) {
	err := RunLoop(bg, func(ctx context.Context) error {
		_, err := Go(ctx, func(context.Context) (int, error) { panic("in loop") }).Await(ctx)
		return err
	})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "in loop" {
		t.Fatalf("got %v", err)
	}
}

func TestNestedRunLoop(t *testing.T) {
	err := RunLoop(bg, func(ctx context.Context) error {
		return RunLoop(ctx, func(context.Context) error { return nil })
	})
	if !errors.Is(err, ErrNestedLoop) {
		t.Fatalf("got %v", err)
	}
	mustPanic(t, "nil main", func() { RunLoop(bg, nil) })
	mustPanic(t, "SlowTask", func() { SlowTask(0) })
	mustPanic(t, "RunLoop: nil option", func() { RunLoop(bg, func(context.Context) error { return nil }, nil) })
}

func TestLoopCancelWakesAwaiter(t *testing.T) {
	err := RunLoop(bg, func(ctx context.Context) error {
		p := NewPromise[int]()
		waiter := Go(ctx, func(ctx context.Context) (int, error) { return p.Future().Await(ctx) })
		Yield(ctx) // let waiter block
		waiter.Cancel()
		_, err := waiter.Await(ctx)
		if !errors.Is(err, ErrCanceled) {
			return fmt.Errorf("waiter: %v", err)
		}
		p.Resolve(0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoopThenCatchAndCombinators(t *testing.T) {
	err := RunLoop(bg, func(ctx context.Context) error {
		a := Go(ctx, value(2))
		b := Then(ctx, a, func(ctx context.Context, v int) (int, error) {
			if !InLoop(ctx) {
				return 0, errors.New("Then ran outside the loop")
			}
			return v * 10, nil
		})
		c := Catch(ctx, Go(ctx, failing[int](errors.New("x"))), func(ctx context.Context, err error) (int, error) { return 5, nil })
		vals, err := All(ctx, b, c)
		if err != nil || vals[0] != 20 || vals[1] != 5 {
			return fmt.Errorf("All: %v %v", vals, err)
		}
		v, err := Any(ctx, Go(ctx, failing[int](errors.New("y"))), Go(ctx, value(7)))
		if v != 7 || err != nil {
			return fmt.Errorf("Any: %v %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A task that blocks the loop is reported, deterministically under
// synctest's fake clock: once, with its name, while it still holds the loop
// (the release channel is closed by the report itself, so a task that never
// gave the loop back would be reported too). The time reported is a lower
// bound: the watchdog counts from its first look at the hold, an eighth of
// the threshold after it began.
func TestSlowTaskReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		output := logTo(t, func() { close(release) })
		err := RunLoop(bg, func(ctx context.Context) error {
			Go(ctx, func(ctx context.Context) (int, error) {
				<-release // blocks the loop until it has been reported
				return 0, nil
			}, Name("blocker"))
			Go(ctx, func(ctx context.Context) (int, error) {
				time.Sleep(50 * time.Millisecond) // under the threshold
				return 0, nil
			}, Name("quick"))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out := output()
		if strings.Count(out, "held the event loop") != 1 || !strings.Contains(out, "task=blocker") || !strings.Contains(out, "held=100ms") || !strings.Contains(out, "time=2000-01-01T00:00:00.112Z") {
			t.Fatalf("log:\n%s", out)
		}
	})
}

// Tasks run at once in their awaiter's turn are part of that turn: a task
// that holds the loop through many short ones is reported.
func TestSlowTurnOfInlineTasksReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		output := logTo(t, nil)
		err := RunLoop(bg, func(ctx context.Context) error {
			for range 30 { // 150 ms in all, 5 ms each
				if _, err := Go(ctx, func(ctx context.Context) (int, error) {
					time.Sleep(5 * time.Millisecond)
					return 0, nil
				}).Await(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if out := output(); strings.Count(out, "held the event loop") != 1 {
			t.Fatalf("log:\n%s", out)
		}
	})
}

// logTo sends slog's default logger to a buffer until the test ends and
// returns a function that reads what was written. written, if set, is called
// after the first write.
func logTo(t *testing.T, written func()) (output func() string) {
	var buf strings.Builder
	var mu sync.Mutex
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf, written}, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

type lockedWriter struct {
	mu      *sync.Mutex
	b       *strings.Builder
	written func() // called after the first write, if set
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	first := w.b.Len() == 0
	n, err := w.b.Write(p)
	if first && w.written != nil {
		w.written()
	}
	return n, err
}

func TestScopeInLoop(t *testing.T) {
	var order []string
	running, maxRunning := 0, 0
	err := RunLoop(bg, func(ctx context.Context) error {
		return Run(ctx, func(s *Scope) error {
			for i := range 6 {
				s.Go(func(ctx context.Context) error {
					if !InLoop(ctx) {
						return errors.New("scope child outside the loop")
					}
					running++
					maxRunning = max(maxRunning, running)
					running--
					if err := Sleep(ctx, time.Duration(6-i)*time.Minute); err != nil {
						return err
					}
					order = append(order, fmt.Sprint(i))
					return nil
				})
			}
			f := Spawn(s, func(ctx context.Context) (int, error) { return 42, Yield(ctx) })
			if v, err := f.Await(s.Context()); v != 42 || err != nil {
				return fmt.Errorf("spawned: %v %v", v, err)
			}
			err := s.Start(func(ctx context.Context, ready func()) error {
				ready()
				return Sleep(ctx, time.Second)
			})
			return err
		}, Limit(2))
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if maxRunning != 1 || len(order) != 6 {
		t.Fatalf("maxRunning %d, order %v", maxRunning, order)
	}
	// Limit(2): children 0 and 1 start first; 1 sleeps 5m, 0 sleeps 6m, and
	// each finished child lets the next queued one start.
	if order[0] != "1" {
		t.Fatalf("order %v; want child 1 first under Limit(2)", order)
	}
}

func TestScopeFailureInLoopCancelsSiblings(t *testing.T) {
	boom := errors.New("boom")
	var siblingErr error
	err := RunLoop(bg, func(ctx context.Context) error {
		return Run(ctx, func(s *Scope) error {
			s.Go(func(ctx context.Context) error {
				siblingErr = Sleep(ctx, time.Hour)
				return siblingErr
			})
			s.Go(func(ctx context.Context) error { Yield(ctx); return boom })
			return nil
		})
	}, VirtualTime())
	if err != boom {
		t.Fatalf("got %v; want the failure alone (the sibling's cancellation is fallout)", err)
	}
	if !errors.Is(siblingErr, context.Canceled) {
		t.Fatalf("sibling ended with %v", siblingErr)
	}
}

// Queue ping-pong between loop tasks, Event, and Map run inside the loop.
func TestQueueEventMapInLoop(t *testing.T) {
	var trace []string
	err := RunLoop(bg, func(ctx context.Context) error {
		ping, pong := NewQueue[int](0), NewQueue[int](0)
		Go(ctx, func(ctx context.Context) (int, error) {
			for {
				v, err := ping.Get(ctx)
				if err != nil {
					return 0, nil // closed
				}
				trace = append(trace, fmt.Sprint("pong ", v))
				if err := pong.Put(ctx, v+1); err != nil {
					return 0, err
				}
			}
		})
		for i := 0; i < 6; i += 2 {
			if err := ping.Put(ctx, i); err != nil {
				return err
			}
			v, err := pong.Get(ctx)
			if err != nil || v != i+1 {
				return fmt.Errorf("pong %d %v", v, err)
			}
			trace = append(trace, fmt.Sprint("ping ", v))
		}
		ping.Close()

		var ev Event
		waiter := Go(ctx, func(ctx context.Context) (int, error) { return 0, ev.Wait(ctx) })
		Yield(ctx)
		trace = append(trace, "set")
		ev.Set()
		if _, err := waiter.Await(ctx); err != nil {
			return err
		}

		running, maxRunning := 0, 0
		out, err := Map(ctx, []int{1, 2, 3, 4}, func(ctx context.Context, v int) (int, error) {
			if !InLoop(ctx) {
				return 0, errors.New("Map call outside the loop")
			}
			running++
			maxRunning = max(maxRunning, running)
			running--
			return v * v, Yield(ctx)
		}, Limit(2))
		if err != nil || !slices.Equal(out, []int{1, 4, 9, 16}) || maxRunning != 1 {
			return fmt.Errorf("Map: %v %v (max running %d)", out, err, maxRunning)
		}
		return nil
	}, Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pong 0", "ping 1", "pong 2", "ping 3", "pong 4", "ping 5", "set"}
	if !slices.Equal(trace, want) {
		t.Fatalf("trace %v; want %v", trace, want)
	}
}

// Loop tasks that do not block share worker goroutines: 10,000 tasks, each
// awaiting a child, run on a handful of goroutines, not one each.
func TestLoopTasksShareGoroutines(t *testing.T) {
	// The loop's own count of the workers it started: runtime.NumGoroutine
	// may count goroutines that have exited while a GC moves them about.
	made := 0
	err := RunLoop(bg, func(ctx context.Context) error {
		l := loopOf(ctx)
		fs := make([]*Future[int], 10_000)
		for i := range fs {
			fs[i] = Go(ctx, func(ctx context.Context) (int, error) {
				return Go(ctx, func(context.Context) (int, error) { return i, nil }).Await(ctx)
			})
		}
		vs, err := All(ctx, fs...)
		l.mu.Lock()
		made = l.made
		l.mu.Unlock()
		for i, v := range vs {
			if v != i {
				return fmt.Errorf("value %d at %d", v, i)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if made > 4 {
		t.Fatalf("the loop started %d goroutines to run 10,000 tasks each awaiting a child", made)
	}
}

// Awaiting a task that has not started, with the context it was started
// with, runs it at once in the awaiter's turn; with another context, it
// waits for its turn.
func TestLoopAwaitRunsUnstartedTaskAtOnce(t *testing.T) {
	run := func(sameCtx bool) []string {
		var order []string
		err := RunLoop(bg, func(ctx context.Context) error {
			Go(ctx, func(ctx context.Context) (int, error) { order = append(order, "a"); return 0, nil })
			b := Go(ctx, func(ctx context.Context) (int, error) { order = append(order, "b"); return 0, nil })
			actx := ctx
			if !sameCtx {
				c, cancel := context.WithCancel(ctx)
				defer cancel()
				actx = c
			}
			if _, err := b.Await(actx); err != nil {
				return err
			}
			order = append(order, "main")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return order
	}
	if got := run(true); !slices.Equal(got, []string{"b", "main", "a"}) {
		t.Fatalf("same context: order %v", got)
	}
	if got := run(false); !slices.Equal(got, []string{"a", "b", "main"}) {
		t.Fatalf("derived context: order %v", got)
	}
}

// A context that ended before Await is Await's answer: the task is not run
// in the awaiter's turn.
func TestLoopAwaitWithEndedContextDoesNotRunTask(t *testing.T) {
	ran := false
	err := RunLoop(bg, func(ctx context.Context) error {
		c, cancel := context.WithCancel(ctx)
		f := Go(c, func(ctx context.Context) (int, error) { ran = true; return 0, ctx.Err() })
		cancel()
		if _, err := f.Await(c); !errors.Is(err, context.Canceled) || ran {
			return fmt.Errorf("Await: %v, ran %v", err, ran)
		}
		_, err := f.Await(ctx) // now it runs, and sees its context ended
		if !errors.Is(err, context.Canceled) || !ran {
			return fmt.Errorf("second Await: %v, ran %v", err, ran)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A task run in its awaiter's turn may block: the loop goes on with other
// tasks, and the awaiter resumes after it.
func TestLoopTaskRunAtOnceMayBlock(t *testing.T) {
	var order []string
	err := RunLoop(bg, func(ctx context.Context) error {
		Go(ctx, func(ctx context.Context) (int, error) {
			order = append(order, "sibling")
			return 0, nil
		})
		child := Go(ctx, func(ctx context.Context) (int, error) {
			order = append(order, "child")
			if err := Sleep(ctx, time.Hour); err != nil {
				return 0, err
			}
			order = append(order, "child woke")
			return 1, nil
		})
		v, err := child.Await(ctx)
		order = append(order, "main")
		if v != 1 {
			return fmt.Errorf("got %d", v)
		}
		return err
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"child", "sibling", "child woke", "main"}; !slices.Equal(order, want) {
		t.Fatalf("order %v; want %v", order, want)
	}
}

// runtime.Goexit in a loop task settles it with ErrGoexit and the loop goes
// on; in a task run in its awaiter's turn it ends the awaiter too.
func TestLoopGoexit(t *testing.T) {
	resumed := false
	err := RunLoop(bg, func(ctx context.Context) error {
		alone := Go(ctx, func(ctx context.Context) (int, error) {
			runtime.Goexit()
			return 0, nil
		})
		outer := Go(ctx, func(ctx context.Context) (int, error) {
			inner := Go(ctx, func(ctx context.Context) (int, error) {
				runtime.Goexit()
				return 0, nil
			})
			v, err := inner.Await(ctx) // runs inner at once, on this goroutine
			resumed = true
			return v, err
		})
		after := Go(ctx, func(ctx context.Context) (int, error) { return 7, nil })
		rs, err := AllSettled(ctx, alone, outer, after)
		if err != nil {
			return err
		}
		if !errors.Is(rs[0].Err, ErrGoexit) || !errors.Is(rs[1].Err, ErrGoexit) || rs[2].Value != 7 {
			return fmt.Errorf("results %+v", rs)
		}
		return nil
	})
	if err != nil || resumed {
		t.Fatalf("err %v, resumed %v", err, resumed)
	}
}

// In a loop scope with a Limit, children still queued when the scope ends are
// dropped: a Spawn's future settles with the scope's error and a Start
// returns it, instead of waiting forever.
func TestLoopScopeDropsQueuedChildren(t *testing.T) {
	boom := errors.New("boom")
	err := RunLoop(bg, func(ctx context.Context) error {
		var f *Future[int]
		var startErr error
		serr := Run(ctx, func(s *Scope) error {
			s.Go(func(ctx context.Context) error { return boom }) // takes the one slot, then fails
			f = Spawn(s, func(ctx context.Context) (int, error) { return 1, nil })
			startErr = s.Start(func(ctx context.Context, ready func()) error { ready(); return nil })
			return nil
		}, Limit(1))
		_, ferr := f.Await(ctx)
		if !errors.Is(serr, boom) || !errors.Is(ferr, context.Canceled) || !errors.Is(startErr, context.Canceled) {
			return fmt.Errorf("scope %v, queued Spawn %v, queued Start %v", serr, ferr, startErr)
		}
		return nil
	}, VirtualTime())
	if err != nil {
		t.Fatal(err)
	}
}
