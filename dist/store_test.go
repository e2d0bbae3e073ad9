package dist

import (
	"context"
	"testing"
)

// A task whose outcome was sent but whose answer from the server was lost
// (here: nobody listens for it) is not acked on hope: once the answer is
// late, the worker stores the outcome again (the first write stays) and
// acks the task only then.
func TestStoreAnswerLost(t *testing.T) {
	s := testServer(t)
	nc := connect(t, s.URL())
	w, err := NewWorker(nc)
	if err != nil {
		t.Fatal(err)
	}
	Register(w, "echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	serve(t, w)
	<-w.Ready()
	if err := w.storeSub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, connect(t, s.URL()))
	if v, err := await[string](t, Call[string, string](context.Background(), c, "echo", "x")); err != nil || v != "x" {
		t.Fatalf("Await = %q, %v", v, err)
	}
	pending := func() int {
		w.storeMu.Lock()
		defer w.storeMu.Unlock()
		return len(w.stores)
	}
	if n := pending(); n != 1 {
		t.Fatalf("%d stores await an answer, want 1", n)
	}
	st, err := c.Stats(context.Background(), "echo")
	if err != nil || st.Running != 1 {
		t.Fatalf("Stats = %+v, %v; want the task running (not acked) while its store is unanswered", st, err)
	}
	w.expireStores(monoNow() + int64(apiTimeout))
	eventually(t, func() bool {
		st, err = c.Stats(context.Background(), "echo")
		return pending() == 0 && err == nil && st.Running == 0 && st.Queued == 0
	}, func() string { return "the task was never acked after its store's answer was lost" })
}
