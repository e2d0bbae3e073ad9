package stream

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goasync/async"
)

// counted yields 0, 1, 2, ... (n < 0: forever), counting items read and
// recording that its cleanup ran.
type counted struct {
	n       int
	read    atomic.Int64
	cleaned atomic.Bool
}

func (c *counted) seq(yield func(int) bool) {
	defer c.cleaned.Store(true)
	for i := 0; c.n < 0 || i < c.n; i++ {
		c.read.Add(1)
		if !yield(i) {
			return
		}
	}
}

func TestMapOrdered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Later items finish first; results still come in input order.
		const n = 20
		var got []int
		for v, err := range Map(context.Background(), count(n), func(ctx context.Context, i int) (int, error) {
			time.Sleep(time.Duration(n-i) * time.Millisecond)
			return i * 10, nil
		}, async.Limit(4)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		for i, v := range got {
			if v != i*10 {
				t.Fatalf("result %d = %d; got %v", i, v, got)
			}
		}
		if len(got) != n {
			t.Fatalf("%d results", len(got))
		}
	})
}

func TestMapUnordered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 8
		var got []int
		for v, err := range Map(context.Background(), count(n), func(ctx context.Context, i int) (int, error) {
			time.Sleep(time.Duration(n-i) * time.Millisecond)
			return i, nil
		}, async.Limit(4), async.Unordered()) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		// Items 0-3 run first; 3 sleeps least and so comes first.
		if got[0] != 3 {
			t.Fatalf("first result %d, want 3 (completion order); got %v", got[0], got)
		}
		slices.Sort(got)
		if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
			t.Fatalf("results %v", got)
		}
	})
}

func TestMapBoundedReadAhead(t *testing.T) {
	for _, tc := range []struct {
		name          string
		limit, buffer int
		unordered     bool
	}{
		{"ordered", 3, 5, false},
		{"unordered", 2, 0, true},
		{"Buffer(0)", 4, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				in := &counted{n: -1} // infinite
				opts := []async.StreamOption{async.Limit(tc.limit), async.Buffer(tc.buffer)}
				if tc.unordered {
					opts = append(opts, async.Unordered())
				}
				window := int64(tc.limit + tc.buffer)
				yielded := int64(0)
				for _, err := range Map(context.Background(), in.seq, func(ctx context.Context, i int) (int, error) {
					return i, nil
				}, opts...) {
					if err != nil {
						t.Fatal(err)
					}
					yielded++
					synctest.Wait() // let the workers read as far ahead as they can
					if ahead := in.read.Load() - yielded; ahead != window {
						t.Fatalf("after %d results, %d items read ahead; want exactly Limit+Buffer = %d", yielded, ahead, window)
					}
					if yielded == 50 {
						break
					}
				}
				if !in.cleaned.Load() {
					t.Fatal("the input's cleanup had not run when the range statement returned")
				}
			})
		})
	}
}

func TestMapBreakCancelsAndWaits(t *testing.T) {
	var started, returned atomic.Int32
	var causes sync.Map
	firstDone := make(chan struct{})
	for v, err := range Map(context.Background(), count(100), func(ctx context.Context, i int) (int, error) {
		started.Add(1)
		defer returned.Add(1)
		if i == 0 {
			return 0, nil
		}
		<-ctx.Done()
		causes.Store(i, context.Cause(ctx))
		return 0, ctx.Err()
	}, async.Limit(3), async.Unordered()) {
		if err != nil || v != 0 {
			t.Fatalf("got %d, %v", v, err)
		}
		close(firstDone)
		break
	}
	// Every call has returned by the time the range statement returns.
	if s, r := started.Load(), returned.Load(); s != r {
		t.Fatalf("%d calls started, %d returned when the range statement returned", s, r)
	}
	causes.Range(func(k, v any) bool {
		if v != errStopped {
			t.Errorf("call %v cancelled with cause %v", k, v)
		}
		return true
	})
}

func TestMapFirstFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		in := &counted{n: 1000}
		var got []int
		var errs []error
		for v, err := range Map(context.Background(), in.seq, func(ctx context.Context, i int) (int, error) {
			switch {
			case i < 3:
				return i, nil
			case i == 3:
				time.Sleep(time.Millisecond) // fail once the others are in flight
				return 0, boom
			}
			<-ctx.Done() // in flight when 3 fails: cancelled, fallout
			return 0, errors.New("fallout " + context.Cause(ctx).Error())
		}, async.Limit(4), async.Buffer(2)) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, v)
		}
		if !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("results before the failure %v, want [0 1 2]", got)
		}
		if len(errs) != 1 || errs[0] != boom {
			t.Fatalf("errors %v, want boom once", errs)
		}
		if r := in.read.Load(); r > 3+1+6 {
			t.Fatalf("%d items read: reading went on after the failure", r)
		}
		if !in.cleaned.Load() {
			t.Fatal("input not released")
		}
	})
}

func TestMapInputPanic(t *testing.T) {
	in := func(yield func(int) bool) {
		for i := range 2 {
			if !yield(i) {
				return
			}
		}
		panic("input exploded")
	}
	var got []int
	var last error
	for v, err := range Map(context.Background(), in, func(ctx context.Context, i int) (int, error) {
		return i, nil
	}, async.Limit(1)) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, v)
	}
	var pe *async.PanicError
	if !errors.As(last, &pe) || pe.Value != "input exploded" {
		t.Fatalf("last error %v, want a PanicError from the input", last)
	}
	if !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("results %v before the panic", got)
	}
	if !bytes.Contains(pe.Stack, []byte("TestMapInputPanic")) {
		t.Fatalf("stack does not show the input:\n%s", pe.Stack)
	}
}

func TestMapFnPanicAndGoexit(t *testing.T) {
	for v, err := range Map(context.Background(), count(5), func(ctx context.Context, i int) (int, error) {
		if i == 2 {
			panic("fn exploded")
		}
		return i, nil
	}, async.Limit(1)) {
		if err != nil {
			var pe *async.PanicError
			if !errors.As(err, &pe) || pe.Value != "fn exploded" {
				t.Fatalf("err %v", err)
			}
			break
		}
		if v >= 2 {
			t.Fatalf("result %d after the panicking item", v)
		}
	}
	var last error
	for _, err := range Map(context.Background(), count(3), func(ctx context.Context, i int) (int, error) {
		runtime.Goexit()
		return 0, nil
	}) {
		last = err
	}
	if !errors.Is(last, async.ErrGoexit) {
		t.Fatalf("Goexit in fn: %v", last)
	}
}

func TestMapParentCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("shutdown")
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		n := 0
		var last error
		for _, err := range Map(ctx, (&counted{n: -1}).seq, func(ctx context.Context, i int) (int, error) {
			if i >= 5 {
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return i, nil
		}, async.Limit(2)) {
			if err != nil {
				last = err
				continue
			}
			if n++; n == 5 {
				cancel(cause)
			}
		}
		if !errors.Is(last, context.Canceled) || !errors.Is(last, cause) {
			t.Fatalf("err %v, want context.Canceled and the cause", last)
		}
	})
}

func TestMapAlreadyCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range Map(ctx, count(10), func(ctx context.Context, i int) (int, error) {
		t.Error("fn called with an ended ctx")
		return i, nil
	}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("yielded %v", errs)
	}
}

func TestMapProgress(t *testing.T) {
	var reports []int
	for range Map(context.Background(), count(10), func(ctx context.Context, i int) (int, error) {
		return i, nil
	}, async.Progress(func(done, total int) {
		if total != -1 {
			t.Errorf("total %d, want -1", total)
		}
		reports = append(reports, done)
	})) {
	}
	if !slices.Equal(reports, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Fatalf("reports %v", reports)
	}
}

func TestMapRangeTwice(t *testing.T) {
	s := Map(context.Background(), count(3), func(ctx context.Context, i int) (int, error) { return i, nil })
	for range 2 {
		var got []int
		for v := range s {
			got = append(got, v)
		}
		if !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("got %v", got)
		}
	}
}

func TestMapBadInput(t *testing.T) {
	ctx := context.Background()
	id := func(_ context.Context, v int) (int, error) { return v, nil }
	var nilCtx context.Context
	for _, tc := range []struct {
		want string
		fn   func()
	}{
		{"nil Context", func() { Map(nilCtx, count(1), id) }},
		{"nil input", func() { Map(ctx, nil, id) }},
		{"nil function", func() { Map[int, int](ctx, count(1), nil) }},
		{"Limit(0)", func() { Map(ctx, count(1), id, async.Limit(0)) }},
		{"stream.Map: nil option", func() { Map(ctx, count(1), id, nil) }},
		{"nil function", func() { _ = ForEach[int](ctx, count(1), nil) }},
		{"stream.ForEach: nil option", func() {
			_ = ForEach(ctx, count(1), func(context.Context, int) error { return nil }, nil)
		}},
	} {
		mustPanic(t, tc.want, tc.fn)
	}
}

func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "async:") || !strings.Contains(msg, want) {
			t.Errorf("panic %q, want async: ... %s", msg, want)
		}
	}()
	fn()
}

func TestForEach(t *testing.T) {
	var sum atomic.Int64
	if err := ForEach(context.Background(), count(1000), func(ctx context.Context, i int) error {
		sum.Add(int64(i))
		return nil
	}, async.Limit(4)); err != nil {
		t.Fatal(err)
	}
	if sum.Load() != 999*1000/2 {
		t.Fatalf("sum %d", sum.Load())
	}
}

func TestForEachLimitAndReadAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := &counted{n: -1}
		var inflight atomic.Int32
		release := make(chan struct{})
		done := make(chan error)
		go func() {
			done <- ForEach(context.Background(), in.seq, func(ctx context.Context, i int) error {
				inflight.Add(1)
				defer inflight.Add(-1)
				select {
				case <-release:
					return errors.New("stop")
				case <-ctx.Done():
					return ctx.Err()
				}
			}, async.Limit(3))
		}()
		synctest.Wait()
		if n, r := inflight.Load(), in.read.Load(); n != 3 || r != 3 {
			t.Fatalf("%d calls in flight, %d items read; want 3 and 3", n, r)
		}
		close(release)
		if err := <-done; err == nil || err.Error() != "stop" {
			t.Fatalf("ForEach = %v", err)
		}
		if !in.cleaned.Load() {
			t.Fatal("input not released")
		}
	})
}

func TestForEachFailures(t *testing.T) {
	boom := errors.New("boom")
	if err := ForEach(context.Background(), count(100), func(ctx context.Context, i int) error {
		if i == 10 {
			return boom
		}
		return nil
	}, async.Limit(1)); err != boom {
		t.Fatalf("err %v", err)
	}
	err := ForEach(context.Background(), func(yield func(int) bool) { panic("in") }, func(ctx context.Context, i int) error {
		return nil
	})
	var pe *async.PanicError
	if !errors.As(err, &pe) || pe.Value != "in" {
		t.Fatalf("input panic: %v", err)
	}
	err = ForEach(context.Background(), count(3), func(ctx context.Context, i int) error { panic("fn") })
	if !errors.As(err, &pe) || pe.Value != "fn" {
		t.Fatalf("fn panic: %v", err)
	}
	cause := errors.New("cause")
	ctx, cancel := context.WithCancelCause(context.Background())
	err = ForEach(ctx, (&counted{n: -1}).seq, func(ctx context.Context, i int) error {
		if i == 5 {
			cancel(cause)
		}
		return ctx.Err()
	}, async.Limit(1))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Fatalf("ctx end: %v", err)
	}
}

func TestForEachProgress(t *testing.T) {
	var last int
	err := ForEach(context.Background(), count(50), func(ctx context.Context, i int) error { return nil },
		async.Limit(3), async.Progress(func(done, total int) {
			if total != -1 || done <= last {
				t.Errorf("report (%d, %d) after %d", done, total, last)
			}
			last = done
		}))
	if err != nil || last != 50 {
		t.Fatalf("err %v, last report %d", err, last)
	}
}

// FuzzMap drives stream.Map with random successes, failures, panics and
// slow calls, random options, and a consumer that may stop early, and checks
// order, the single error, bounded read-ahead and that nothing outlives the
// range statement.
func FuzzMap(f *testing.F) {
	f.Add(uint8(2), uint8(1), false, uint8(255), []byte{0, 0, 0, 0})
	f.Add(uint8(3), uint8(0), true, uint8(3), []byte{0, 3, 1, 3, 0})
	f.Add(uint8(1), uint8(4), false, uint8(255), []byte{2, 0, 3})
	f.Fuzz(func(t *testing.T, limit, buffer uint8, unordered bool, stopAt uint8, actions []byte) {
		synctest.Test(t, func(t *testing.T) {
			fuzzStreamMap(t, int(limit%6)+1, int(buffer%6), unordered, int(stopAt), actions)
		})
	})
}

func fuzzStreamMap(t *testing.T, limit, buffer int, unordered bool, stopAt int, actions []byte) {
	if len(actions) > 100 {
		actions = actions[:100]
	}
	const (
		succeed = iota
		fail
		panics
		slow
		numActions
	)
	for i := range actions {
		actions[i] %= numActions
	}
	in := &counted{n: len(actions)}
	opts := []async.StreamOption{async.Limit(limit), async.Buffer(buffer)}
	if unordered {
		opts = append(opts, async.Unordered())
	}
	var started, returned atomic.Int32
	var seen []int
	errs := 0
	yielded := int64(0)
	for v, err := range Map(context.Background(), in.seq, func(ctx context.Context, i int) (int, error) {
		started.Add(1)
		defer returned.Add(1)
		switch actions[i] {
		case fail:
			return 0, errors.New("fail")
		case panics:
			panic(i)
		case slow:
			select {
			case <-time.After(time.Duration(i+1) * time.Millisecond):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		return i, nil
	}, opts...) {
		yielded++
		if ahead := in.read.Load() - yielded; ahead > int64(limit+buffer) {
			t.Fatalf("%d items read ahead, limit %d + buffer %d", ahead, limit, buffer)
		}
		if errs > 0 {
			t.Fatal("yielded after the error")
		}
		if err != nil {
			errs++
			var pe *async.PanicError
			if !errors.As(err, &pe) && err.Error() != "fail" {
				t.Fatalf("error %v is neither a failure nor a panic", err)
			}
			continue
		}
		if actions[v] == fail || actions[v] == panics {
			t.Fatalf("result for item %d, which failed", v)
		}
		seen = append(seen, v)
		if len(seen) == stopAt {
			break
		}
	}
	if s, r := started.Load(), returned.Load(); s != r {
		t.Fatalf("%d calls started, %d returned when the range statement returned", s, r)
	}
	if !in.cleaned.Load() {
		t.Fatal("input not released")
	}
	if !unordered {
		for i, v := range seen {
			if v != i {
				t.Fatalf("ordered results %v", seen)
			}
		}
	}
	stopped := stopAt >= 1 && len(seen) == stopAt
	if slices.ContainsFunc(actions, func(a byte) bool { return a == fail || a == panics }) {
		if errs != 1 && !stopped {
			t.Fatalf("a failure was not reported; %d results", len(seen))
		}
		return
	}
	if errs != 0 || (!stopped && len(seen) != len(actions)) {
		t.Fatalf("%d errors and %d results of %d with no failure", errs, len(seen), len(actions))
	}
}
