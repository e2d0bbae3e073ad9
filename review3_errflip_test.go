package async

import (
	"context"
	"testing"
	"time"
)

func TestReviewErrFlipsOnReturn(t *testing.T) {
	parent, cancel := context.WithDeadline(bg, time.Unix(0, 0)) // already ended
	defer cancel()
	var taskCtx context.Context
	var inside error
	f := Go(parent, func(ctx context.Context) (int, error) {
		taskCtx, inside = ctx, ctx.Err()
		return 1, nil
	})
	f.Await(bg)
	if inside != context.DeadlineExceeded {
		t.Fatalf("inside: %v", inside)
	}
	if after := taskCtx.Err(); after != inside {
		t.Fatalf("the task's context said Err = %v while it ran, then %v once it returned: a context's Err must not change once non-nil", inside, after)
	}
	if c := context.Cause(taskCtx); c != context.DeadlineExceeded {
		t.Fatalf("Cause = %v; want the parent's", c)
	}
}

// The same with the task's standard context made (Done) while it ran.
func TestReviewErrFlipsOnReturnWithDone(t *testing.T) {
	parent, cancel := context.WithDeadline(bg, time.Unix(0, 0)) // already ended
	defer cancel()
	var taskCtx context.Context
	var inside error
	f := Go(parent, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		taskCtx, inside = ctx, ctx.Err()
		return 1, nil
	})
	f.Await(bg)
	if inside != context.DeadlineExceeded {
		t.Fatalf("inside: %v", inside)
	}
	if after := taskCtx.Err(); after != inside {
		t.Fatalf("the task's context said Err = %v while it ran, then %v once it returned: a context's Err must not change once non-nil", inside, after)
	}
}
