package unawaited

import (
	"context"
	"errors"

	"github.com/goasync/async"
	aliased "github.com/goasync/async"
	"github.com/goasync/async/dist"
)

func work(ctx context.Context) (int, error) { return 1, nil }

// True positives.

func discarded(ctx context.Context) {
	async.Go(ctx, work) // want `the future from async.Go is discarded: its result and any error would be lost; await it`
}

func discardedAliased(ctx context.Context) {
	aliased.Go(ctx, work) // want `the future from async.Go is discarded`
}

func discardedExplicitInstance(ctx context.Context) {
	async.Go[int](ctx, work) // want `the future from async.Go is discarded`
}

func blank(ctx context.Context) {
	_ = async.Go(ctx, work) // want `the future from async.Go is assigned to _`
}

func blankVar(ctx context.Context) {
	var _ = async.Go(ctx, work) // want `the future from async.Go is assigned to _`
}

func onlySilenced(ctx context.Context) {
	f := async.Go(ctx, work) // want `the future from async.Go is stored in f but never awaited: its result and any error would be lost; await f`
	_ = f
}

func onlyCanceled(ctx context.Context) {
	f := async.Go(ctx, work) // want `stored in f but never awaited`
	defer f.Cancel()
}

func overwrittenOnly(ctx context.Context) {
	var f *async.Future[int]
	f = async.Go(ctx, work) // want `stored in f but never awaited`
	f = nil
	_ = f
}

func funcValue(ctx context.Context) {
	fetch := async.Func(func(ctx context.Context, id int) (int, error) { return id, nil })
	fetch(ctx, 1) // want `the future from fetch is discarded`
}

func chained(ctx context.Context) {
	f := async.Go(ctx, work)
	async.Then(ctx, f, func(ctx context.Context, v int) (string, error) { return "", nil })  // want `the future from async.Then is discarded`
	async.Catch(ctx, f, func(ctx context.Context, err error) (int, error) { return 0, nil }) // want `the future from async.Catch is discarded`
}

func pools(ctx context.Context, p *async.Pool) {
	async.Submit(ctx, p, work) // want `the future from async.Submit is discarded`
}

func offloaded(ctx context.Context) {
	async.Offload(ctx, work) // want `the future from async.Offload is discarded`
}

func spawned(s *async.Scope) {
	async.Spawn(s, work) // want `the future from async.Spawn is discarded: its value would be lost \(its failure still reaches Scope.Wait\); use Scope.Go`
}

func rejected() {
	async.Rejected[int](errors.New("x")) // want `the future from async.Rejected is discarded`
}

func distributed(ctx context.Context, c *dist.Client) {
	dist.Call[string, int](ctx, c, "resize", "img") // want `the future from dist.Call is discarded`
}

func deferred(ctx context.Context) {
	defer async.Go(ctx, work) // want `the future from async.Go is discarded`
}

func helper(ctx context.Context) *async.Future[int] { return async.Go(ctx, work) }

func userFunction(ctx context.Context) {
	helper(ctx) // want `the future from helper is discarded`
}

func parenthesized(ctx context.Context) {
	(async.Go(ctx, work)) // want `the future from async.Go is discarded`
}

func ignored(ctx context.Context) {
	async.Go(ctx, work) //asyncvet:ignore unawaited fire and forget on purpose
	//asyncvet:ignore unawaited,awaitloop the line below too
	async.Go(ctx, work)
	//asyncvet:ignore awaitloop names another check, so this is still reported
	async.Go(ctx, work) // want `discarded`
}
