package async

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// Outcome kinds of a fuzzed future.
const (
	kOK = iota
	kErr
	kPanic
	kCancel
	kPreOK  // Resolved before the combinator starts
	kPreErr // Rejected before the combinator starts
	numKinds
)

// Combinators under test.
const (
	cAll = iota
	cAllSettled
	cAny
	cRace
	cAsCompleted
	numCombinators
)

type fuzzCase struct {
	kinds   []int
	release []int // order in which pending futures settle; held ones last
	held    int   // how many of the last in release are still pending when ctx ends
	comb    int
}

// byteReader returns a function that yields data's bytes one at a time, and
// then zeros: a fuzz input decodes into any program.
func byteReader(data []byte) func() int {
	return func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
}

func decodeFuzz(data []byte) fuzzCase {
	next := byteReader(data)
	var c fuzzCase
	n := 1 + next()%8
	c.comb = next() % numCombinators
	for range n {
		c.kinds = append(c.kinds, next()%numKinds)
	}
	for i, k := range c.kinds {
		if k != kPreOK && k != kPreErr {
			c.release = append(c.release, i)
		}
	}
	for i := len(c.release) - 1; i > 0; i-- { // Fisher-Yates driven by the input
		j := next() % (i + 1)
		c.release[i], c.release[j] = c.release[j], c.release[i]
	}
	c.held = next() % (len(c.release) + 1)
	return c
}

func FuzzCombinators(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 0, 0, 0, 0}, {3, 1, 1, 0, 2, 1, 0}, {7, 2, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9},
		{5, 3, 0, 1, 2, 3, 4, 5, 1, 2, 3, 4, 2}, {4, 4, 3, 3, 3, 3, 0}, {6, 0, 4, 5, 0, 1, 2, 3, 2, 1, 0, 3},
		{2, 2, 2, 2, 2}, {7, 1, 5, 5, 5, 5, 5, 5, 5, 5},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runFuzzCase(t, decodeFuzz(data))
	})
}

func runFuzzCase(t *testing.T, c fuzzCase) {
	n := len(c.kinds)
	errs := make([]error, n)
	gates := make([]chan struct{}, n)
	fs := make([]*Future[int], n)
	for i, k := range c.kinds {
		errs[i] = fmt.Errorf("error %d", i)
		switch k {
		case kPreOK:
			fs[i] = Resolved(i)
		case kPreErr:
			fs[i] = Rejected[int](errs[i])
		default:
			gate := make(chan struct{})
			gates[i] = gate
			fs[i] = Go(bg, func(ctx context.Context) (int, error) {
				<-gate
				switch k {
				case kErr:
					return 0, errs[i]
				case kPanic:
					panic(errs[i])
				case kCancel:
					<-ctx.Done()
					return 0, ctx.Err()
				}
				return i, nil
			})
		}
	}

	// The order in which outcomes become visible: settled futures first, in
	// input order, then the released ones in release order.
	var order []int
	for i, k := range c.kinds {
		if k == kPreOK || k == kPreErr {
			order = append(order, i)
		}
	}
	released := c.release[:len(c.release)-c.held]
	order = append(order, released...)

	ctx, cancel := context.WithCancel(bg)
	type outcome struct {
		vals    []int
		results []Result[int]
		val     int
		err     error
		yielded []int
	}
	out := make(chan outcome, 1)
	go func() {
		var o outcome
		switch c.comb {
		case cAll:
			o.vals, o.err = All(ctx, fs...)
		case cAllSettled:
			o.results, o.err = AllSettled(ctx, fs...)
		case cAny:
			o.val, o.err = Any(ctx, fs...)
		case cRace:
			o.val, o.err = Race(ctx, fs...)
		case cAsCompleted:
			for i, r := range AsCompleted(ctx, fs...) {
				o.yielded = append(o.yielded, i)
				o.results = append(o.results, r)
			}
		}
		out <- o
	}()

	// Wait until the combinator has subscribed to every pending future (or
	// has already returned), so the release order below is what it sees.
	var got *outcome
	for got == nil {
		select {
		case o := <-out:
			got = &o
			continue
		default:
		}
		all := true
		for _, i := range c.release {
			fs[i].t.mu.Lock()
			sub := fs[i].t.w1 != nil
			fs[i].t.mu.Unlock()
			all = all && sub
		}
		if all {
			break
		}
		runtime.Gosched()
	}
	for _, i := range released {
		if c.kinds[i] == kCancel {
			fs[i].Cancel()
		}
		close(gates[i])
		<-fs[i].t.doneChan() // settled, and every waiter notified, without observing
	}
	if got == nil && c.held == 0 { // everything settled: the outcome is decided
		o := <-out
		got = &o
	}
	cancel()
	if got == nil {
		o := <-out
		got = &o
	}
	for _, i := range c.release[len(released):] {
		if c.kinds[i] == kCancel {
			fs[i].Cancel()
		}
		close(gates[i])
	}
	for _, f := range fs {
		<-f.t.doneChan()
	}
	checkFuzzOutcome(t, c, fs, errs, order, got.vals, got.results, got.val, got.err, got.yielded)
}

func failed(k int) bool { return k != kOK && k != kPreOK }

// matches reports whether err is what future i's kind produces.
func matches(k, i int, err error, errs []error) bool {
	switch k {
	case kOK, kPreOK:
		return err == nil
	case kErr, kPreErr:
		return err == errs[i]
	case kPanic:
		var pe *PanicError
		return errors.As(err, &pe) && pe.Value == errs[i]
	case kCancel:
		return errors.Is(err, ErrCanceled) && errors.Is(err, context.Canceled)
	}
	return false
}

func checkFuzzOutcome(t *testing.T, c fuzzCase, fs []*Future[int], errs []error, order []int,
	vals []int, results []Result[int], val int, err error, yielded []int) {
	t.Helper()
	held := c.held > 0
	isCtxErr := errors.Is(err, context.Canceled) && !errors.Is(err, ErrCanceled)
	firstWhere := func(pred func(k int) bool) int {
		for _, i := range order {
			if pred(c.kinds[i]) {
				return i
			}
		}
		return -1
	}
	switch c.comb {
	case cAll:
		if i := firstWhere(failed); i >= 0 {
			if !matches(c.kinds[i], i, err, errs) {
				t.Fatalf("%+v: All = %v; want future %d's failure", c, err, i)
			}
		} else if held {
			if !isCtxErr {
				t.Fatalf("%+v: All = %v; want the context's error", c, err)
			}
		} else {
			if err != nil || len(vals) != len(fs) {
				t.Fatalf("%+v: All = %v, %v", c, vals, err)
			}
			for i, v := range vals {
				if v != i {
					t.Fatalf("%+v: All values %v not in input order", c, vals)
				}
			}
		}
	case cAllSettled:
		if held != isCtxErr || held == (err == nil) || len(results) != len(fs) {
			t.Fatalf("%+v: AllSettled = %v, %v; want every result, and the context's error only if some were held", c, results, err)
		}
		pending := make(map[int]bool)
		for _, i := range c.release[len(c.release)-c.held:] {
			pending[i] = true
		}
		for i, r := range results {
			if pending[i] {
				if r.Err != ErrNotSettled {
					t.Fatalf("%+v: AllSettled[%d] = %+v; want ErrNotSettled for a held future", c, i, r)
				}
				continue
			}
			if !matches(c.kinds[i], i, r.Err, errs) || r.Err == nil && r.Value != i {
				t.Fatalf("%+v: AllSettled[%d] = %+v", c, i, r)
			}
		}
	case cAny:
		if i := firstWhere(func(k int) bool { return !failed(k) }); i >= 0 {
			if err != nil || val != i {
				t.Fatalf("%+v: Any = %v, %v; want %d", c, val, err, i)
			}
		} else if held {
			if !isCtxErr {
				t.Fatalf("%+v: Any = %v; want the context's error", c, err)
			}
		} else {
			var agg *AggregateError
			if !errors.As(err, &agg) || len(agg.Errors) != len(fs) {
				t.Fatalf("%+v: Any = %v; want an AggregateError of all", c, err)
			}
			for i, e := range agg.Errors {
				if !matches(c.kinds[i], i, e, errs) {
					t.Fatalf("%+v: Any's error %d = %v", c, i, e)
				}
			}
		}
	case cRace:
		if len(order) == 0 {
			if !isCtxErr {
				t.Fatalf("%+v: Race = %v; want the context's error", c, err)
			}
			return
		}
		i := order[0]
		if !matches(c.kinds[i], i, err, errs) || err == nil && val != i {
			t.Fatalf("%+v: Race = %v, %v; want future %d", c, val, err, i)
		}
	case cAsCompleted:
		if len(yielded) > len(order) || !slices.Equal(yielded, order[:len(yielded)]) {
			t.Fatalf("%+v: AsCompleted yielded %v; want a prefix of %v", c, yielded, order)
		}
		if !held && len(yielded) != len(order) {
			t.Fatalf("%+v: AsCompleted yielded %v; want all of %v", c, yielded, order)
		}
		for k, i := range yielded {
			r := results[k]
			if !matches(c.kinds[i], i, r.Err, errs) || r.Err == nil && r.Value != i {
				t.Fatalf("%+v: AsCompleted gave future %d %+v", c, i, r)
			}
		}
	}
}
