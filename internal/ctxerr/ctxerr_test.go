package ctxerr

import (
	"context"
	"errors"
	"testing"
)

func TestOfCarriesTheCause(t *testing.T) {
	boom := errors.New("boom")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(boom)
	err := Of(ctx)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, boom) || err.Error() != "context canceled: boom" {
		t.Fatalf("Of = %v", err)
	}
	plain, stop := context.WithCancel(context.Background())
	stop()
	if err := Of(plain); err != context.Canceled {
		t.Fatalf("Of without a cause = %v; want context.Canceled itself", err)
	}
}

func TestFallout(t *testing.T) {
	boom := errors.New("boom")
	ctx, cancel := context.WithCancelCause(context.Background())
	other := errors.New("other")
	if Fallout(ctx, other) != other || Fallout(ctx, nil) != nil {
		t.Fatal("Fallout changed an error while ctx was live")
	}
	cancel(boom)
	if err := Fallout(ctx, context.Canceled); !errors.Is(err, boom) {
		t.Fatalf("Fallout of the end = %v; want it with its cause", err)
	}
	if Fallout(ctx, other) != other {
		t.Fatal("Fallout replaced an error that is not the context's")
	}
}
