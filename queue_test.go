package async

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

func TestQueueFIFO(t *testing.T) {
	ctx := context.Background()
	q := NewQueue[int](3)
	for round := range 4 { // wraps the ring buffer
		for i := range 3 {
			if err := q.Put(ctx, round*10+i); err != nil {
				t.Fatal(err)
			}
		}
		if q.Len() != 3 {
			t.Fatalf("Len = %d", q.Len())
		}
		for i := range 3 {
			v, err := q.Get(ctx)
			if err != nil || v != round*10+i {
				t.Fatalf("Get = %d, %v; want %d", v, err, round*10+i)
			}
		}
	}
	if _, ok := q.TryGet(); ok {
		t.Fatal("TryGet on an empty queue succeeded")
	}
}

func TestQueueTry(t *testing.T) {
	q := NewQueue[string](1)
	if !q.TryPut("a") {
		t.Fatal("TryPut on an empty queue failed")
	}
	if q.TryPut("b") {
		t.Fatal("TryPut on a full queue succeeded")
	}
	if v, ok := q.TryGet(); !ok || v != "a" {
		t.Fatalf("TryGet = %q, %v", v, ok)
	}
	q.Close()
	if q.TryPut("c") {
		t.Fatal("TryPut on a closed queue succeeded")
	}
}

func TestQueuePutBlocksUntilRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := NewQueue[int](1)
		_ = q.Put(ctx, 1)
		putDone := make(chan error)
		go func() { putDone <- q.Put(ctx, 2) }()
		synctest.Wait()
		select {
		case <-putDone:
			t.Fatal("Put on a full queue did not block")
		default:
		}
		if v, _ := q.Get(ctx); v != 1 {
			t.Fatalf("Get = %d", v)
		}
		if err := <-putDone; err != nil {
			t.Fatal(err)
		}
		if v, _ := q.Get(ctx); v != 2 {
			t.Fatalf("Get = %d", v)
		}
	})
}

func TestQueueGetBlocksUntilItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := NewQueue[int](4)
		got := make(chan int)
		go func() {
			v, _ := q.Get(ctx)
			got <- v
		}()
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("Get on an empty queue did not block")
		default:
		}
		_ = q.Put(ctx, 7)
		if v := <-got; v != 7 {
			t.Fatalf("Get = %d", v)
		}
		if q.Len() != 0 {
			t.Fatal("the item handed to a waiting Get was also buffered")
		}
	})
}

func TestQueueWaitersServedInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := NewQueue[int](0)
		var order []int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, _ := q.Get(ctx)
				mu.Lock()
				order = append(order, i*100+v)
				mu.Unlock()
			}()
			synctest.Wait() // getter i is queued before getter i+1
		}
		for v := range 3 {
			_ = q.Put(ctx, v)
		}
		wg.Wait()
		for i, o := range order {
			if o/100 != o%100 {
				t.Fatalf("order %v: getter %d got item %d", order, o/100, o%100)
			}
			_ = i
		}
	})
}

func TestQueueCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("gave up")
		q := NewQueue[int](1)
		_ = q.Put(context.Background(), 1)

		ctx, cancel := context.WithCancelCause(context.Background())
		putErr := make(chan error)
		go func() { putErr <- q.Put(ctx, 2) }()
		synctest.Wait()
		cancel(cause)
		if err := <-putErr; !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Fatalf("blocked Put = %v; want context.Canceled with its cause", err)
		}
		if v, _ := q.Get(context.Background()); v != 1 || q.Len() != 0 {
			t.Fatal("a Put whose ctx ended left its item in the queue")
		}

		ctx2, cancel2 := context.WithCancel(context.Background())
		getErr := make(chan error)
		go func() {
			_, err := q.Get(ctx2)
			getErr <- err
		}()
		synctest.Wait()
		cancel2()
		if err := <-getErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("blocked Get = %v", err)
		}
		// The abandoned Get took nothing: the next item goes to the next Get.
		_ = q.Put(context.Background(), 3)
		if v, _ := q.TryGet(); v != 3 {
			t.Fatal("item lost to an abandoned Get")
		}
	})
}

func TestQueueEndedCtxDoesNotBlock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := NewQueue[int](1)
	if err := q.Put(ctx, 1); err != nil {
		t.Fatalf("Put with room and an ended ctx = %v; want nil", err)
	}
	if err := q.Put(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put on a full queue with an ended ctx = %v", err)
	}
	if v, err := q.Get(ctx); v != 1 || err != nil {
		t.Fatalf("Get with an item and an ended ctx = %d, %v", v, err)
	}
	if _, err := q.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get on an empty queue with an ended ctx = %v", err)
	}
}

func TestQueueClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := NewQueue[int](2)
		_ = q.Put(ctx, 1)
		_ = q.Put(ctx, 2)
		blockedPut := make(chan error)
		go func() { blockedPut <- q.Put(ctx, 3) }()
		synctest.Wait()
		q.Close()
		q.Close() // harmless
		if err := <-blockedPut; err != ErrClosed {
			t.Fatalf("Put blocked at Close = %v; want ErrClosed", err)
		}
		if err := q.Put(ctx, 4); err != ErrClosed {
			t.Fatalf("Put after Close = %v; want ErrClosed", err)
		}
		// Items put before Close are all delivered, then ErrClosed.
		for want := 1; want <= 2; want++ {
			if v, err := q.Get(ctx); v != want || err != nil {
				t.Fatalf("Get = %d, %v; want %d", v, err, want)
			}
		}
		if _, err := q.Get(ctx); err != ErrClosed {
			t.Fatalf("Get on a closed, drained queue = %v", err)
		}

		q2 := NewQueue[int](1)
		blockedGet := make(chan error)
		go func() {
			_, err := q2.Get(ctx)
			blockedGet <- err
		}()
		synctest.Wait()
		q2.Close()
		if err := <-blockedGet; err != ErrClosed {
			t.Fatalf("Get blocked at Close = %v; want ErrClosed", err)
		}
	})
}

func TestQueueRendezvous(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := NewQueue[int](0)
		if q.TryPut(1) {
			t.Fatal("TryPut with no waiting Get succeeded on a capacity-0 queue")
		}
		putDone := make(chan error)
		go func() { putDone <- q.Put(ctx, 5) }()
		synctest.Wait()
		select {
		case <-putDone:
			t.Fatal("Put returned before a Get took its item")
		default:
		}
		if q.Len() != 0 {
			t.Fatal("Len counts a blocked Put's item")
		}
		if v, ok := q.TryGet(); !ok || v != 5 {
			t.Fatalf("TryGet = %d, %v", v, ok)
		}
		if err := <-putDone; err != nil {
			t.Fatal(err)
		}
		got := make(chan int)
		go func() {
			v, _ := q.Get(ctx)
			got <- v
		}()
		synctest.Wait()
		if !q.TryPut(6) {
			t.Fatal("TryPut with a waiting Get failed")
		}
		if v := <-got; v != 6 {
			t.Fatalf("Get = %d", v)
		}
	})
}

func TestQueueAll(t *testing.T) {
	ctx := context.Background()
	q := NewQueue[int](10)
	for i := range 5 {
		_ = q.Put(ctx, i)
	}
	q.Close()
	var got []int
	for v := range q.All(ctx) {
		got = append(got, v)
		if v == 2 {
			break
		}
	}
	if len(got) != 3 || q.Len() != 2 {
		t.Fatalf("got %v, Len %d; want [0 1 2] and 2 left", got, q.Len())
	}
	got = got[:0]
	for v := range q.All(ctx) {
		got = append(got, v)
	}
	if len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Fatalf("got %v", got)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	for range NewQueue[int](1).All(ended) {
		t.Fatal("All yielded with an ended ctx and an empty queue")
	}
}

func TestQueueBadInput(t *testing.T) {
	mustPanic(t, "NewQueue(-1)", func() { NewQueue[int](-1) })
	var nilCtx context.Context
	q := NewQueue[int](1)
	mustPanic(t, "nil Context", func() { _ = q.Put(nilCtx, 1) })
	mustPanic(t, "nil Context", func() { _, _ = q.Get(nilCtx) })
}

// TestQueueNothingLost races producers and consumers whose contexts end at
// random against each other and Close: every item whose Put returned nil is
// received exactly once, and no item whose Put failed is received.
func TestQueueNothingLost(t *testing.T) {
	for _, capacity := range []int{0, 1, 8} {
		q := NewQueue[int](capacity)
		const producers, per = 4, 500
		var (
			accepted sync.Map
			received sync.Map
			dup      atomic.Bool
			pwg, cwg sync.WaitGroup
		)
		for p := range producers {
			pwg.Add(1)
			go func() {
				defer pwg.Done()
				r := rand.New(rand.NewPCG(uint64(p), 1))
				for i := range per {
					ctx, cancel := context.WithCancel(context.Background())
					if r.IntN(4) == 0 {
						go cancel()
					}
					v := p*per + i
					if q.Put(ctx, v) == nil {
						accepted.Store(v, true)
					}
					cancel()
				}
			}()
		}
		for c := range 3 {
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				r := rand.New(rand.NewPCG(uint64(c), 2))
				for {
					ctx, cancel := context.WithCancel(context.Background())
					if r.IntN(4) == 0 {
						go cancel()
					}
					v, err := q.Get(ctx)
					cancel()
					if err == ErrClosed {
						return
					}
					if err == nil {
						if _, loaded := received.LoadOrStore(v, true); loaded {
							dup.Store(true)
						}
					}
				}
			}()
		}
		pwg.Wait()
		q.Close()
		cwg.Wait()
		if dup.Load() {
			t.Fatalf("capacity %d: an item was received twice", capacity)
		}
		accepted.Range(func(k, _ any) bool {
			if _, ok := received.Load(k); !ok {
				t.Fatalf("capacity %d: accepted item %v never received", capacity, k)
			}
			return true
		})
		received.Range(func(k, _ any) bool {
			if _, ok := accepted.Load(k); !ok {
				t.Fatalf("capacity %d: item %v received but its Put failed", capacity, k)
			}
			return true
		})
	}
}

func BenchmarkQueue(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, 64)
		for i := 0; b.Loop(); i++ {
			ch <- i
			<-ch
		}
	})
	b.Run("async", func(b *testing.B) {
		b.ReportAllocs()
		q := NewQueue[int](64)
		for i := 0; b.Loop(); i++ {
			_ = q.Put(ctx, i)
			_, _ = q.Get(ctx)
		}
	})
}
