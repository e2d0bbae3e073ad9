package awaitloop

import (
	"context"
	"errors"

	"github.com/goasync/async"
)

func fetch(ctx context.Context, id int) (int, error) { return id, nil }

// True positives.

func inline(ctx context.Context, ids []int) (int, error) {
	total := 0
	for _, id := range ids {
		v, err := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) }).Await(ctx) // want `sequential await in a loop: each iteration waits for its task before the next one starts; start them all first, then await \(async.Map, or async.All over the futures\)`
		if err != nil {
			return 0, err // failing fast is what async.Map does too
		}
		total += v
	}
	return total, nil
}

func viaVariable(ctx context.Context, ids []int) []int {
	var out []int
	for _, id := range ids {
		f := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) })
		v, _ := f.Await(ctx) // want `sequential await in a loop`
		out = append(out, v)
	}
	return out
}

func funcValue(ctx context.Context, ids []int) {
	get := async.Func(fetch)
	for i := 0; i < len(ids); i++ {
		get(ctx, ids[i]).Await(ctx) // want `sequential await in a loop`
	}
}

func overMap(ctx context.Context, m map[string]int) {
	for k, v := range m {
		async.Go(ctx, func(ctx context.Context) (string, error) { return k, nil }).Await(ctx) // want `sequential await in a loop`
		_ = v
	}
}

func overInt(ctx context.Context, p *async.Pool) {
	for i := range 10 {
		async.Submit(ctx, p, func(ctx context.Context) (int, error) { return fetch(ctx, i) }).Await(ctx) // want `sequential await in a loop`
	}
}

func spawned(ctx context.Context, s *async.Scope, ids []int) {
	for _, id := range ids {
		async.Spawn(s, func(ctx context.Context) (int, error) { return fetch(ctx, id) }).Await(ctx) // want `sequential await in a loop`
	}
}

func errorsCollected(ctx context.Context, ids []int) error {
	var errs []error
	for _, id := range ids {
		if _, err := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) }).Await(ctx); err != nil { // want `sequential await in a loop`
			errs = append(errs, err)
			continue
		}
	}
	return errors.Join(errs...)
}

func nestedInner(ctx context.Context, groups [][]int) {
	for _, g := range groups {
		for _, id := range g {
			async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) }).Await(ctx) // want `sequential await in a loop`
		}
	}
}

func onlyOncePerLoop(ctx context.Context, ids []int) {
	for _, id := range ids {
		a := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, id) })
		b := async.Go(ctx, func(ctx context.Context) (int, error) { return fetch(ctx, -id) })
		a.Await(ctx) // want `sequential await in a loop`
		b.Await(ctx)
	}
}
