package async

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := Sleep(bg, time.Minute); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) != time.Minute {
			t.Fatalf("slept %v", time.Since(start))
		}
		ctx, cancel := context.WithTimeout(bg, time.Second)
		defer cancel()
		if err := Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		if time.Since(start) != time.Minute+time.Second {
			t.Fatalf("Sleep did not stop at the context's deadline")
		}
		if err := Sleep(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		if err := Sleep(bg, -1); err != nil {
			t.Fatal(err)
		}
	})
}
