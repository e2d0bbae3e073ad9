package awaitloopfix

import (
	"context"
	"fmt"

	"github.com/goasync/async"
)

type item struct{ ID int }

func fetch(ctx context.Context, id int) (item, error) { return item{ID: id}, nil }

// The simple shape: fixed by starting every task in a loop of its own.
func simple(ctx context.Context, ids []int) []item {
	var items []item
	for _, id := range ids {
		it, err := async.Go(ctx, func(ctx context.Context) (item, error) { return fetch(ctx, id) }).Await(ctx) // want `sequential await in a loop`
		if err != nil {
			fmt.Println("skipping", id, err)
			continue
		}
		items = append(items, it)
	}
	return items
}

// A multi-line task, a named index, and a body that no longer needs the
// value.
func multiline(ctx context.Context, ids []int, out []item) {
	for i, id := range ids {
		it, _ := async.Go(ctx, func(ctx context.Context) (item, error) {
			return fetch(ctx, id+1)
		}).Await(ctx) // want `sequential await in a loop`
		out[i] = it
	}
}

// The name i is taken: another one is chosen.
func nameTaken(ctx context.Context, ids []int, i int) {
	get := async.Func(fetch)
	for _, id := range ids {
		it, err := get(ctx, id+i).Await(ctx) // want `sequential await in a loop`
		fmt.Println(it, err)
	}
}

// Reported, but no fix: leaving the loop early would leave started tasks
// unawaited.
func earlyReturn(ctx context.Context, ids []int) error {
	for _, id := range ids {
		_, err := async.Go(ctx, func(ctx context.Context) (item, error) { return fetch(ctx, id) }).Await(ctx) // want `sequential await in a loop`
		if err != nil {
			return err
		}
	}
	return nil
}

// Reported, but no fix: a map's order would differ between two loops.
func overMap(ctx context.Context, m map[int]bool) {
	for id := range m {
		it, _ := async.Go(ctx, func(ctx context.Context) (item, error) { return fetch(ctx, id) }).Await(ctx) // want `sequential await in a loop`
		fmt.Println(it)
	}
}

// Reported, but no fix: the range operand is a call, evaluated twice.
func rangeOverCall(ctx context.Context) {
	for _, id := range ids() {
		it, _ := async.Go(ctx, func(ctx context.Context) (item, error) { return fetch(ctx, id) }).Await(ctx) // want `sequential await in a loop`
		fmt.Println(it)
	}
}

func ids() []int { return nil }
