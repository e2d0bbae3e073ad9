package async

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
)

func TestEventSetWakesAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e Event
		if e.IsSet() {
			t.Fatal("zero Event is set")
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- e.Wait(context.Background())
			}()
		}
		synctest.Wait()
		if len(errs) != 0 {
			t.Fatal("Wait returned before Set")
		}
		e.Set()
		e.Set() // harmless
		wg.Wait()
		for range 3 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if !e.IsSet() {
			t.Fatal("IsSet false after Set")
		}
		if err := e.Wait(context.Background()); err != nil {
			t.Fatal("Wait on a set event:", err)
		}
	})
}

func TestEventClear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e Event
		e.Clear() // clearing a clear event does nothing
		e.Set()
		e.Clear()
		if e.IsSet() {
			t.Fatal("IsSet after Clear")
		}
		done := make(chan error)
		go func() { done <- e.Wait(context.Background()) }()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Wait after Clear did not block")
		default:
		}
		e.Set()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestEventSetThenClearReleasesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e Event
		done := make(chan error)
		go func() { done <- e.Wait(context.Background()) }()
		synctest.Wait()
		e.Set()
		e.Clear() // the waiter was released by Set and stays released
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestEventWaitCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e Event
		cause := errors.New("bored")
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan error)
		go func() { done <- e.Wait(ctx) }()
		synctest.Wait()
		cancel(cause)
		if err := <-done; !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Fatalf("Wait = %v", err)
		}
		e.Set()
		if err := e.Wait(ctx); err != nil {
			t.Fatal("Wait on a set event with an ended ctx:", err)
		}
		var nilCtx context.Context
		mustPanic(t, "nil Context", func() { _ = e.Wait(nilCtx) })
	})
}
