package dist

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/dist/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Workers and clients read headers and records that other processes wrote;
// malformed ones must give errors, never panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("v\"x\""), "1700000000000000000", "3", "0,1000")
	f.Add(errorRecord(&wireError{Kind: kindDead, Last: kindPanic, Message: "m", Stack: "s"}), "", "", "")
	f.Add([]byte("e{"), "x", "-1", ",")
	f.Fuzz(func(t *testing.T, rec []byte, deadline, attempts, retry string) {
		if v, fail, err := decodeRecord(rec); err == nil && fail != nil {
			_ = fail.toError("name", "id").Error()
		} else if err == nil && v == nil && len(rec) > 1 {
			t.Fatal("value record without payload")
		}
		h := map[string][]string{hdrID: {"id"}, hdrDeadline: {deadline}, hdrAttempts: {attempts}, hdrRetry: {retry}}
		m, err := parseMeta(h, "name")
		if err == nil {
			if m.maxAttempts < 1 {
				t.Fatalf("maxAttempts %d accepted", m.maxAttempts)
			}
			for i := 1; i < 4; i++ {
				if m.delay(i) < 0 {
					t.Fatal("negative delay")
				}
			}
		}
	})
}

// Whatever record a results watch delivers, the calls awaiting it settle
// (with a value or an error) and nothing panics, even a type whose own
// decoding panics.
func FuzzClientResult(f *testing.F) {
	f.Add([]byte(`v{"N":1,"S":"x"}`))
	f.Add([]byte(`e{"kind":"panic","msg":"m","stack":"s"}`))
	f.Add([]byte(`e{"kind":"dead","last":"toolarge"}`))
	f.Add([]byte(`vnull`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rec []byte) {
		c := &Client{cfg: clientConfig{common: defaultCommon()}, l: newLayout("ASYNC"), pending: map[string]*call{}, done: make(chan struct{})}
		type value struct {
			N int
			S string
		}
		p1, p2 := async.NewPromise[value](), async.NewPromise[panicky]()
		k1, k2 := newCall(c, p1, "fn", "some.id"), newCall(c, p2, "fn", "some.id")
		c.add(k1)
		c.add(k2)
		c.onResult("some.id", rec)
		if _, done := p1.Future().Peek(); !done {
			t.Fatal("call not settled by a record")
		}
		if _, done := p2.Future().Peek(); !done {
			t.Fatal("second call on the same id not settled")
		}
		if len(c.pending) != 0 {
			t.Fatal("settled calls still pending")
		}
	})
}

// Random task headers and bodies published to a worker: every message is
// settled or dropped, a valid id gets a stored outcome, no slot stays held,
// and nothing panics.
func FuzzWorkerMessage(f *testing.F) {
	f.Add("good.1", "", "", "", "json", false, []byte(`"x"`))
	f.Add("a b", "1", "0", "x", "json", true, []byte(`{`))
	f.Add("k.1", "9999999999999999999", "3", "0,1000", "gob", true, []byte{0xff})
	f.Add("x", "-5", "2", "", "json", false, []byte(`"panic"`))
	var (
		once sync.Once
		env  *fuzzEnv
	)
	f.Cleanup(func() {
		if env != nil {
			env.close()
		}
	})
	seq := 0
	f.Fuzz(func(t *testing.T, id, deadline, attempts, retry, codec string, keyed bool, body []byte) {
		once.Do(func() { env = newFuzzEnv(f) })
		seq++
		// A distinct id each time, or the duplicate window drops it.
		if id != "" {
			id += "." + strconv.Itoa(seq)
		}
		m := nats.NewMsg(env.w.l.taskSubject("echo"))
		m.Data = body
		set := func(k, v string) {
			if v != "" {
				m.Header.Set(k, v)
			}
		}
		set(hdrID, id)
		set(hdrDeadline, deadline)
		set(hdrAttempts, attempts)
		set(hdrCodec, codec)
		if retry != "" {
			m.Header[hdrRetry] = []string{retry}
		}
		if keyed {
			set(hdrKeyed, "1")
		}
		if _, err := env.js.PublishMsg(context.Background(), m); err != nil {
			return // the server refused it (too big, bad header): nothing reached the worker
		}
		deadlineAt := time.Now().Add(10 * time.Second)
		for {
			info, err := env.js.Stream(context.Background(), env.w.l.tasksStream)
			if err == nil && info.CachedInfo().State.Msgs == 0 {
				break
			}
			if time.Now().After(deadlineAt) {
				t.Fatalf("message with id %q still queued after 10s", id)
			}
			time.Sleep(time.Millisecond)
		}
		if validTaskID(id) {
			if _, err := env.w.results.Get(context.Background(), id); err != nil {
				t.Fatalf("no outcome stored for task %q: %v", id, err)
			}
		}
		// No slot stays held: with two slots, a leak per input would
		// stop this call within a few inputs.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if v, err := Call[string, string](ctx, env.c, "echo", "ok").Await(ctx); err != nil || v != "ok" {
			t.Fatalf("worker stopped serving after id %q: %q, %v", id, v, err)
		}
	})
}

// fuzzEnv is a server and a worker shared by a fuzz run's inputs.
type fuzzEnv struct {
	s      *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	w      *Worker
	c      *Client
	cancel context.CancelFunc
	done   chan error
}

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	s, err := server.Start(server.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	e := &fuzzEnv{s: s, done: make(chan error, 1)}
	if e.nc, err = nats.Connect(s.URL()); err != nil {
		tb.Fatal(err)
	}
	if e.js, err = jetstream.New(e.nc); err != nil {
		tb.Fatal(err)
	}
	if e.w, err = NewWorker(e.nc, Concurrency(2), Logger(slog.New(slog.DiscardHandler))); err != nil {
		tb.Fatal(err)
	}
	Register(e.w, "echo", func(ctx context.Context, s string) (string, error) {
		if s == "panic" {
			panic(s)
		}
		return s, nil
	})
	var ctx context.Context
	ctx, e.cancel = context.WithCancel(context.Background())
	go func() { e.done <- e.w.Run(ctx) }()
	<-e.w.Ready()
	if e.c, err = NewClient(e.nc); err != nil {
		tb.Fatal(err)
	}
	return e
}

func (e *fuzzEnv) close() {
	e.c.Close()
	e.cancel()
	<-e.done
	e.nc.Close()
	e.s.Close()
}
