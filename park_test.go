package async

import (
	"context"
	"testing"
)

func TestParkWake(t *testing.T) {
	wake := make(chan struct{}, 1)
	wake <- struct{}{}
	if !park(context.Background(), wake, nil) {
		t.Fatal("park with a ready wake and a background ctx returned false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wake <- struct{}{}
	if !park(ctx, wake, nil) {
		t.Fatal("park with a ready wake returned false")
	}
}

func TestParkCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if park(ctx, make(chan struct{}), nil) {
		t.Fatal("park with an ended ctx and no wake returned true")
	}
}
