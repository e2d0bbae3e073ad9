package dist

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// parsePubAck reads what JetStream's answers to a publication hold.
func TestParsePubAck(t *testing.T) {
	for _, c := range []struct {
		data   string
		status string
		seq    uint64
		err    error
	}{
		{data: `{"stream":"ASYNC_TASKS","seq":42}`, seq: 42},
		{data: `{"stream":"ASYNC_TASKS","domain":"hub","seq":7,"duplicate":true}`, seq: 7},
		{data: `{"stream":"S","seq":18446744073709551615}`, err: jetstream.ErrInvalidJSAck}, // 20 digits
		{data: `{"stream":"S","seq":0}`, err: jetstream.ErrInvalidJSAck},
		{data: `{"stream":"S"}`, err: jetstream.ErrInvalidJSAck},
		{data: `garbage`, err: jetstream.ErrInvalidJSAck},
		{data: ``, status: "503", err: jetstream.ErrNoStreamResponse},
		{data: ``, err: jetstream.ErrInvalidJSAck},
		{data: `{"error":{"code":400,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}`, err: &jetstream.APIError{}},
	} {
		m := &nats.Msg{Data: []byte(c.data), Header: nats.Header{}}
		if c.status != "" {
			m.Header.Set("Status", c.status)
		}
		seq, err := parsePubAck(m)
		switch want := c.err.(type) {
		case nil:
			if err != nil || seq != c.seq {
				t.Errorf("parsePubAck(%s) = %d, %v; want %d", c.data, seq, err, c.seq)
			}
		case *jetstream.APIError:
			var api *jetstream.APIError
			if !errors.As(err, &api) || api.ErrorCode != 10077 {
				t.Errorf("parsePubAck(%s) = %d, %v; want the API error", c.data, seq, err)
			}
		default:
			if !errors.Is(err, want) {
				t.Errorf("parsePubAck(%s) = %d, %v; want %v", c.data, seq, err, want)
			}
		}
	}
}

// Whatever an answer holds, parsePubAck never panics, returns a sequence
// exactly when it returns no error, and reads a well-formed
// acknowledgment's sequence whatever its stream and domain are called;
// storeAnswer (a worker's reading of the answer to a store) never panics
// and calls nothing stored that parsePubAck rejects.
func FuzzPubAck(f *testing.F) {
	f.Add([]byte(`{"stream":"S","seq":1}`), "S", "", uint64(1), false)
	f.Add([]byte(`{"error":{"code":503}}`), `"seq":9`, `x","seq":2`, uint64(3), true)
	f.Fuzz(func(t *testing.T, data []byte, stream, domain string, seq uint64, dup bool) {
		got, err := parsePubAck(&nats.Msg{Data: data})
		if (err == nil) != (got > 0) {
			t.Fatalf("parsePubAck(%q) = %d, %v", data, got, err)
		}
		if won, serr := storeAnswer(&nats.Msg{Data: data}); won && err != nil {
			t.Fatalf("storeAnswer(%q) = true, %v; parsePubAck: %v", data, serr, err)
		}
		if seq == 0 || seq > 1e18 || stream == "" {
			return
		}
		ack, _ := json.Marshal(struct {
			Stream    string `json:"stream"`
			Seq       uint64 `json:"seq"`
			Domain    string `json:"domain,omitempty"`
			Duplicate bool   `json:"duplicate,omitempty"`
		}{stream, seq, domain, dup})
		if got, err := parsePubAck(&nats.Msg{Data: ack}); err != nil || got != seq {
			t.Fatalf("parsePubAck(%s) = %d, %v; want %d", ack, got, err, seq)
		}
	})
}

// The list of unacknowledged publications keeps them oldest first, moves
// a republished one to the end, and wakes callers waiting for room once
// it is below its bound.
func TestUnackedList(t *testing.T) {
	var l unackedList
	defer func() {
		if l.timer != nil {
			l.timer.Stop()
		}
	}()
	ks := make([]*call, 3)
	for i := range ks {
		ks[i] = &call{}
		l.add(ks[i], func() {})
	}
	l.add(ks[0], func() {}) // published again
	order := func() (got []*call) {
		for k := l.head; k != nil; k = k.unext {
			got = append(got, k)
		}
		return got
	}
	if got := order(); len(got) != 3 || got[0] != ks[1] || got[1] != ks[2] || got[2] != ks[0] || l.n != 3 || l.tail != ks[0] {
		t.Fatalf("list after republishing the first: %v (n %d)", got, l.n)
	}
	if !l.remove(ks[2]) || l.remove(ks[2]) {
		t.Fatal("remove: want true once, then false")
	}
	if got := order(); len(got) != 2 || got[0] != ks[1] || got[1] != ks[0] || l.n != 2 {
		t.Fatalf("list after removing the middle: %v (n %d)", got, l.n)
	}
	l.n = maxUnacked // as if full
	room := make(chan struct{})
	l.room = room
	l.remove(ks[1])
	select {
	case <-room:
	default:
		t.Fatal("removing below the bound did not wake the callers waiting for room")
	}
}

// A task published while its stream has no leader (here: no stream at
// all) is answered "no responders"; the call publishes it again until the
// stream is back, and settles.
func TestPublishWithoutStreamRetries(t *testing.T) {
	s := testServer(t)
	nc := connect(t, s.URL())
	c := newClient(t, nc)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := js.DeleteStream(ctx, c.l.tasksStream); err != nil {
		t.Fatal(err)
	}
	f := Call[int, int](ctx, c, "double", 21, WaitForWorker())
	eventually(t, func() bool {
		c.mu.Lock()
		k := c.pending[idOf(t, f)]
		c.mu.Unlock()
		if k == nil {
			return false
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.retries > 0
	}, func() string { return "the call never published its task again" })
	runWorker(t, s.URL(), func(w *Worker) { // makes the stream again
		Register(w, "double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	})
	if v, err := await[int](t, f); err != nil || v != 42 {
		t.Fatalf("Await = %d, %v; want 42", v, err)
	}
}
