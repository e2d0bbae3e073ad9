package dist

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
	"weak"

	"github.com/goasync/async"
	"github.com/goasync/async/internal/ctxerr"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Call submits a task that runs fn(req) on a worker that registered name, and
// returns a future for its result. Call does not wait for the task to run; it
// blocks only while the connection's buffer of unacknowledged publications
// is full.
//
// The future settles with the decoded response, or with an error: a
// [*RemoteError] for a handler error, panic, timeout or dead letter; an error
// matching [ErrNoWorker] if no worker serves name (see [WaitForWorker]);
// [ErrInvalidName] or the codec's error for bad input; [ErrClosed] if the
// client is closed first.
//
// The task belongs to ctx: if ctx ends first, the future rejects with ctx's
// error and the task is canceled; ctx's deadline travels with the task like
// [Timeout]. The future's Cancel cancels the task too: a queued task is
// dropped, and a running handler's context ends. [TaskID] gives the task's
// id, for [Attach] after a restart.
//
// Call panics if ctx or c is nil.
func Call[Req, Resp any](ctx context.Context, c *Client, name string, req Req, opts ...CallOption) *async.Future[Resp] {
	if ctx == nil {
		panic("async: dist.Call with nil Context")
	}
	if c == nil {
		panic("async: dist.Call with nil *Client")
	}
	var cfg callConfig
	for _, o := range opts {
		if o == nil {
			panic("async: dist.Call: nil CallOption")
		}
		o(&cfg)
	}
	if !validName(name) {
		return async.Rejected[Resp](fmt.Errorf("%w: %q", ErrInvalidName, name))
	}
	data, err := c.cfg.codec.Marshal(req)
	if err != nil {
		return async.Rejected[Resp](fmt.Errorf("async: dist.Call %q: encoding request: %w", name, err))
	}
	if err := ctx.Err(); err != nil {
		return async.Rejected[Resp](ctxerr.Of(ctx))
	}
	if !cfg.wait {
		if err := c.checkWorker(ctx, name); err != nil {
			return async.Rejected[Resp](err)
		}
	}

	var dl time.Time
	if cfg.timeout > 0 {
		dl = time.Now().Add(cfg.timeout)
	}
	if d, ok := ctx.Deadline(); ok && (dl.IsZero() || d.Before(dl)) {
		dl = d
	}
	var id string
	if cfg.key != "" {
		id = keyedID(name, cfg.key)
	} else {
		id = c.id + "." + strconv.FormatUint(c.seq.Add(1), 36)
	}
	msg := nats.NewMsg(c.l.taskSubject(name))
	msg.Data = data
	h := msg.Header
	h[hdrID] = []string{id}
	h[hdrCodec] = []string{c.cfg.codec.Name()}
	if !dl.IsZero() {
		h[hdrDeadline] = []string{strconv.FormatInt(dl.UnixNano(), 10)}
	}
	if cfg.maxAttempts > 0 {
		h[hdrAttempts] = []string{strconv.Itoa(cfg.maxAttempts)}
	}
	if cfg.retrySet {
		h[hdrRetry] = []string{formatBackoff(cfg.retry)}
	}
	if cfg.key != "" {
		h[hdrKeyed] = []string{"1"}
	}

	p := async.NewPromise[Resp]()
	f := p.Future()
	registerID(f, id)
	k := newCall(c, p, name, id)
	k.msg, k.dl = msg, dl

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		p.Reject(ErrClosed)
		return f
	}
	c.calls.Add(1)
	if cfg.key == "" {
		c.pending[id] = k
	}
	c.mu.Unlock()

	if cfg.key != "" {
		k.ownKey = true
		// Callers with one key share one task: its outcome may be stored
		// already, and it may come from another client's publication, so
		// this call watches the task's own key.
		if rec, ok := k.watchKey(ctx); ok {
			defer c.calls.Done()
			if k.claim() {
				k.deliver(rec)
			}
			return f
		}
	}
	for {
		k.ack, err = c.js.PublishMsgAsync(msg)
		// Too many publications await their acknowledgment: wait for room
		// (backpressure), unless the call ends first. Other failures are
		// retried by follow.
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || ctx.Err() != nil || c.isClosed() {
			break
		}
	}
	go k.follow(ctx)
	return f
}

// Attach returns a future for the outcome of the task with id taskID, made
// by a [Call] of this client or of any other, possibly before a restart (see
// [TaskID]). Resp must be the type the task's handler returns. If ctx ends
// first, the future rejects with ctx's error and the task goes on; the
// future's Cancel cancels the task. Outcomes are kept 24 hours: attaching to
// an older or unknown id waits until ctx ends. An id that cannot be a task id
// settles the future with [ErrInvalidName]. Attach panics if ctx or c is nil.
func Attach[Resp any](ctx context.Context, c *Client, taskID string) *async.Future[Resp] {
	if ctx == nil {
		panic("async: dist.Attach with nil Context")
	}
	if c == nil {
		panic("async: dist.Attach with nil *Client")
	}
	if !validTaskID(taskID) {
		return async.Rejected[Resp](fmt.Errorf("%w: task id %q", ErrInvalidName, taskID))
	}
	p := async.NewPromise[Resp]()
	f := p.Future()
	registerID(f, taskID)
	k := newCall(c, p, "", taskID)
	k.attach, k.ownKey = true, true
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		p.Reject(ErrClosed)
		return f
	}
	c.calls.Add(1)
	c.mu.Unlock()
	if rec, ok := k.watchKey(ctx); ok {
		defer c.calls.Done()
		if k.claim() {
			k.deliver(rec)
		}
		return f
	}
	go k.follow(ctx)
	return f
}

func newCall[Resp any](c *Client, p *async.Promise[Resp], name, id string) *call {
	codec := c.cfg.codec
	return &call{
		c: c, name: name, id: id,
		done:   p.Future().Done(),
		reject: p.Reject,
		deliver: func(rec []byte) {
			v, err := decodeOutcome[Resp](codec, name, id, rec)
			if err != nil {
				p.Reject(err)
			} else {
				p.Resolve(v)
			}
		},
	}
}

// watchKey looks for the task's stored outcome; if there is none yet, it
// starts a watch of the task's key whose outcomes follow receives (k.recs is
// nil if the watch could not start; follow tries again). It reports the
// outcome and true if it was stored already.
func (k *call) watchKey(ctx context.Context) ([]byte, bool) {
	c := k.c
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if e, err := c.results.Get(gctx, k.id); err == nil {
		return e.Value(), true
	}
	// The watch starts at the key's last value, so an outcome stored
	// between the Get and now is not missed.
	recs := make(chan []byte, 1)
	k.recs = recs
	cons, err := c.js.OrderedConsumer(gctx, c.l.resultsStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{c.l.resultSubject(k.id)},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		k.recs = nil // follow still settles at the deadline, on Cancel or when ctx ends
		return nil, false
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if m.Headers().Get("KV-Operation") == "" {
			select {
			case recs <- m.Data():
			default:
			}
		}
	})
	if err != nil {
		k.recs = nil
		return nil, false
	}
	k.stopW = cc.Stop
	return nil, false
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// taskIDs maps futures made by Call and Attach to their task ids, without
// keeping the futures alive.
var taskIDs sync.Map // weak.Pointer[async.Future[T]] -> string

func registerID[T any](f *async.Future[T], id string) {
	key := weak.Make(f)
	taskIDs.Store(key, id)
	runtime.AddCleanup(f, func(key weak.Pointer[async.Future[T]]) { taskIDs.Delete(key) }, key)
}

// TaskID returns the id of the task behind a future made by [Call] or
// [Attach]; ok is false for any other future, including one that Call
// rejected before making a task (bad input, no worker).
func TaskID[T any](f *async.Future[T]) (id string, ok bool) {
	if f == nil {
		return "", false
	}
	v, ok := taskIDs.Load(weak.Make(f))
	if !ok {
		return "", false
	}
	return v.(string), true
}
