package async

import (
	"context"
	"errors"
	"testing"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	f := Go(ctx, func(ctx context.Context) (int, error) { return 42, nil })
	v, err := f.Await(ctx)
	if v != 42 || err != nil {
		t.Fatal(v, err)
	}
	fs := []*Future[int]{Go(ctx, func(context.Context) (int, error) { return 1, nil }), Go(ctx, func(context.Context) (int, error) { return 2, nil })}
	vs, err := All(ctx, fs...)
	if err != nil || vs[0] != 1 || vs[1] != 2 {
		t.Fatal(vs, err)
	}
	boom := errors.New("boom")
	_, err = Go(ctx, func(context.Context) (int, error) { panic(boom) }).Await(ctx)
	var pe *PanicError
	if !errors.As(err, &pe) || !errors.Is(err, boom) {
		t.Fatal(err)
	}
	t.Log(err)
	c, cancel := context.WithCancel(ctx)
	g := Go(c, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
	g.Cancel()
	_, err = g.Await(ctx)
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	cancel()
}
