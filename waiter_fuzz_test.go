package async

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// modelWaiter logs its id when notified (after a fake-clock sleep, so that an
// Await told too early returns before the id is logged), and fails on a
// second notification.
type modelWaiter struct {
	id   int
	log  *[]int
	mu   *sync.Mutex
	told bool
	t    *testing.T
}

func (w *modelWaiter) notify(*task) {
	time.Sleep(time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.told {
		w.t.Errorf("waiter %d notified twice", w.id)
	}
	w.told = true
	*w.log = append(*w.log, w.id)
}

type modelAwait struct {
	cancel context.CancelFunc
	done   chan error
	seen   []int
	byDone bool // waits on Done() rather than Await
}

// FuzzWaiterOrder runs a random sequence (from seed) of subscriptions,
// unsubscriptions, AfterSettle hooks and their stops, blocked Awaits and Done
// waits (some giving up) and extensions made by Done on one promise, then
// resolves it, and checks that the waiters still subscribed are told once
// each, in subscription order; that every blocked Await or Done has seen
// them all told when it returns; and that nothing is left behind.
func FuzzWaiterOrder(f *testing.F) {
	for seed := range uint64(200) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		synctest.Test(t, func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			var trace []string
			defer func() {
				if t.Failed() {
					t.Logf("seed %d: %s", seed, strings.Join(trace, " "))
				}
			}()
			p := NewPromise[int]()
			f := p.Future()
			var (
				mu     sync.Mutex
				log    []int
				live   []int // ids still subscribed, in subscription order
				unsubs = map[int]func(){}
				awaits []*modelAwait
				nextID int
			)
			nops := 2 + r.IntN(9)
			for range nops {
				switch op := r.IntN(7); op {
				case 0, 1: // subscribe a waiter
					id := nextID
					nextID++
					w := &modelWaiter{id: id, log: &log, mu: &mu, t: t}
					if !f.t.subscribe(w) {
						t.Fatal("subscribe failed")
					}
					live = append(live, id)
					unsubs[id] = func() { f.t.unsubscribe(w) }
					trace = append(trace, fmt.Sprintf("sub%d", id))
				case 2: // AfterSettle hook
					id := nextID
					nextID++
					w := &modelWaiter{id: id, log: &log, mu: &mu, t: t}
					stop := p.AfterSettle(func() { w.notify(nil) })
					live = append(live, id)
					unsubs[id] = func() {
						if !stop() {
							t.Errorf("stop of hook %d did not stop it", id)
						}
					}
					trace = append(trace, fmt.Sprintf("hook%d", id))
				case 3: // unsubscribe one
					if len(live) == 0 {
						continue
					}
					i := r.IntN(len(live))
					id := live[i]
					unsubs[id]()
					live = slices.Delete(live, i, i+1)
					trace = append(trace, fmt.Sprintf("unsub%d", id))
				case 4: // a blocked Await (or a Done wait)
					ctx, cancel := context.WithCancel(context.Background())
					a := &modelAwait{cancel: cancel, done: make(chan error, 1), byDone: r.IntN(4) == 0}
					awaits = append(awaits, a)
					go func() {
						var err error
						if a.byDone {
							select {
							case <-f.Done():
							case <-ctx.Done():
								err = ctx.Err()
							}
						} else {
							_, err = f.Await(ctx)
						}
						mu.Lock()
						a.seen = slices.Clone(log)
						mu.Unlock()
						a.done <- err
					}()
					synctest.Wait()
					trace = append(trace, fmt.Sprintf("await(done=%v)", a.byDone))
				case 5: // an Await gives up
					if len(awaits) == 0 {
						continue
					}
					i := r.IntN(len(awaits))
					a := awaits[i]
					a.cancel()
					if err := <-a.done; !errors.Is(err, context.Canceled) {
						t.Fatalf("gave-up await = %v", err)
					}
					awaits = slices.Delete(awaits, i, i+1)
					trace = append(trace, "giveup")
				case 6: // the extension is made (done channel)
					_ = f.Done()
					trace = append(trace, "Done()")
				}
				if c := waiterCount(&f.t); c < len(live) || c > len(live)+len(awaits) {
					t.Fatalf("%v: %d waiters held, %d subscribed, %d awaits", trace, c, len(live), len(awaits))
				}
			}
			if len(awaits) == 0 {
				if c := waiterCount(&f.t); c != len(live) {
					t.Fatalf("%v: %d waiters held, want %d", trace, c, len(live))
				}
			}
			p.Resolve(1)
			mu.Lock()
			got := slices.Clone(log)
			mu.Unlock()
			if !slices.Equal(got, live) {
				t.Errorf("%v: notified %v, want %v", trace, got, live)
			}
			for _, a := range awaits {
				if err := <-a.done; err != nil {
					t.Errorf("await = %v", err)
				}
				if !slices.Equal(a.seen, live) {
					t.Errorf("%v: an Await (done=%v) returned having seen %v, want %v", trace, a.byDone, a.seen, live)
				}
				a.cancel()
			}
			if c := waiterCount(&f.t); c != 0 {
				t.Errorf("%d waiters left after settling", c)
			}
		})
	})
}
