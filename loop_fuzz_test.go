package async

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Steps of a fuzzed loop task.
const (
	lYield        = iota
	lAwaitChild   // start a child and await it with the same context: it runs at once
	lAwaitDerived // the same with a derived context: it waits for its turn
	lSleep        // a virtual sleep
	lAwaitSibling // await an earlier task
	lBlockedChild // a child that sleeps, awaited at once
	lQueue        // hand a value to a helper task through a Queue and take it back
	lFail         // return an error
	numLoopSteps
)

// FuzzLoop runs random programs of loop tasks (yields, children run at once
// or in turn, virtual sleeps, awaits of siblings, queue round trips,
// failures) under FIFO and seeded scheduling, and checks that at most one
// loop task runs at once, that every result arrives, and that each
// schedule replays exactly.
func FuzzLoop(f *testing.F) {
	f.Add([]byte{3, 0, 1, 2, 3, 4, 5, 6, 7, 1, 1})
	f.Add([]byte{7, 1, 1, 1, 5, 5, 2, 4, 4, 0, 6, 6, 3})
	f.Add([]byte{1, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		prog := decodeLoopProgram(data)
		for _, opts := range [][]LoopOption{{VirtualTime()}, {VirtualTime(), Seed(int64(len(data)))}} {
			first, err1 := runLoopProgram(prog, opts)
			again, err2 := runLoopProgram(prog, opts)
			if fmt.Sprint(err1) != fmt.Sprint(err2) || !slices.Equal(first, again) {
				t.Fatalf("program %v, options %d: not replayed:\n%v %v\n%v %v", prog, len(opts), first, err1, again, err2)
			}
			wantErr := false
			for _, steps := range prog {
				wantErr = wantErr || slices.Contains(steps, lFail)
			}
			if (err1 != nil) != wantErr {
				t.Fatalf("program %v: err %v, want failure %v", prog, err1, wantErr)
			}
		}
	})
}

func decodeLoopProgram(data []byte) [][]int {
	next := byteReader(data)
	prog := make([][]int, 1+next()%8)
	for i := range prog {
		n := next() % 6
		for range n {
			prog[i] = append(prog[i], next()%numLoopSteps)
		}
	}
	return prog
}

// runLoopProgram runs prog: task i performs prog[i]'s steps, recording each
// in the trace, and returns i (or fails). It checks that loop tasks never
// overlap and that every task's value arrives.
func runLoopProgram(prog [][]int, opts []LoopOption) ([]string, error) {
	var trace []string
	running := 0
	enter := func(what string, i, s int) error {
		running++
		if running != 1 {
			return fmt.Errorf("%d loop tasks running at once", running)
		}
		trace = append(trace, fmt.Sprintf("%s%d.%d", what, i, s))
		running--
		return nil
	}
	errFail := errors.New("step failed")
	err := RunLoop(context.Background(), func(ctx context.Context) error {
		q := NewQueue[int](0)
		back := NewQueue[int](0)
		helper := Go(ctx, func(ctx context.Context) (int, error) {
			for v := range q.All(ctx) {
				if err := back.Put(ctx, v+1); err != nil {
					return 0, err
				}
			}
			return 0, nil
		})
		fs := make([]*Future[int], len(prog))
		for i, steps := range prog {
			fs[i] = Go(ctx, func(ctx context.Context) (int, error) {
				for s, step := range steps {
					if err := enter("t", i, s); err != nil {
						return 0, err
					}
					switch step {
					case lYield:
						if err := Yield(ctx); err != nil {
							return 0, err
						}
					case lAwaitChild, lAwaitDerived, lBlockedChild:
						actx := ctx
						if step == lAwaitDerived {
							c, cancel := context.WithCancel(ctx)
							defer cancel()
							actx = c
						}
						child := Go(ctx, func(ctx context.Context) (int, error) {
							if err := enter("c", i, s); err != nil {
								return 0, err
							}
							if step == lBlockedChild {
								if err := Sleep(ctx, time.Duration(1+s)*time.Minute); err != nil {
									return 0, err
								}
							}
							return s, enter("C", i, s)
						})
						if v, err := child.Await(actx); err != nil || v != s {
							return 0, fmt.Errorf("child: %d, %v", v, err)
						}
					case lSleep:
						if err := Sleep(ctx, time.Duration(i+1)*time.Second); err != nil {
							return 0, err
						}
					case lAwaitSibling:
						if i > 0 {
							if v, err := fs[i-1].Await(ctx); err != nil && !errors.Is(err, errFail) || err == nil && v != i-1 {
								return 0, fmt.Errorf("sibling: %d, %v", v, err)
							}
						}
					case lQueue:
						if err := q.Put(ctx, i); err != nil {
							return 0, err
						}
						if v, err := back.Get(ctx); err != nil || v != i+1 {
							return 0, fmt.Errorf("queue: %d, %v", v, err)
						}
					case lFail:
						return 0, errFail
					}
					if err := enter("T", i, s); err != nil {
						return 0, err
					}
				}
				return i, nil
			})
		}
		rs, err := AllSettled(ctx, fs...)
		q.Close()
		if _, herr := helper.Await(ctx); herr != nil {
			return herr
		}
		if err != nil {
			return err
		}
		for i, r := range rs {
			switch {
			case errors.Is(r.Err, errFail):
				err = r.Err
			case r.Err != nil:
				return fmt.Errorf("task %d: %w", i, r.Err)
			case r.Value != i:
				return fmt.Errorf("task %d returned %d", i, r.Value)
			}
		}
		return err
	}, opts...)
	return trace, err
}
