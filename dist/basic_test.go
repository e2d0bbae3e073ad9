package dist

import (
	"context"
	"errors"
	"testing"

	"github.com/goasync/async"
)

func TestCallReturnsValue(t *testing.T) {
	s := testServer(t)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	})
	c := newClient(t, connect(t, s.URL()))
	f := Call[int, int](context.Background(), c, "double", 21)
	v, err := await[int](t, f)
	if err != nil || v != 42 {
		t.Fatalf("got %v, %v; want 42, nil", v, err)
	}
	id, ok := TaskID(f)
	if !ok || id == "" {
		t.Fatalf("TaskID = %q, %v", id, ok)
	}
}

func TestRemoteError(t *testing.T) {
	s := testServer(t)
	runWorker(t, s.URL(), func(w *Worker) {
		Register(w, "fail", func(ctx context.Context, n int) (int, error) { return 0, errors.New("boom") })
	})
	c := newClient(t, connect(t, s.URL()))
	_, err := await[int](t, Call[int, int](context.Background(), c, "fail", 1))
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *RemoteError", err)
	}
	if re.Message != "boom" || re.Task != "fail" || re.Attempt != 1 {
		t.Fatalf("RemoteError = %+v", re)
	}
}

// dist.Permanent is the core's mark: either package's retries see it.
func TestPermanentIsTheCores(t *testing.T) {
	base := errors.New("bad")
	if err := Permanent(base); !async.IsPermanent(err) || !errors.Is(err, base) {
		t.Fatalf("Permanent(%v) = %v: not the core's permanent mark", base, err)
	}
	if Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
}
