package dist

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/internal/attach"
	"github.com/goasync/async/internal/ctxerr"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Call submits a task that runs fn(req) on a worker that registered name, and
// returns a future for its result. Call does not wait for the task to run; it
// blocks only while the connection's buffer of unacknowledged publications
// is full, and, for a [Key], while it looks for a stored outcome.
//
// The future settles with the decoded response, or with an error: a
// [*RemoteError] for a handler error, panic, timeout or dead letter; an error
// matching [ErrNoWorker] if no worker serves name (see [WaitForWorker]);
// [ErrTooLarge] if the request is bigger than the server accepts;
// [ErrQueueFull] beyond [MaxQueued]; [ErrInvalidName] or the codec's error
// for bad input; [ErrClosed] if the client is closed first.
//
// The task belongs to ctx: if ctx is canceled first, the future rejects with
// ctx's error and the task is canceled; ctx's deadline travels with the task
// like [Timeout]. The future's Cancel cancels the task too: a queued task is
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
	if len(opts) > 0 {
		cfg = callOptions(opts)
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
		id = randomID(c.id)
	}
	msg := nats.NewMsg(c.l.taskSubject(name))
	msg.Data = data
	msg.Reply = c.pubPrefix + id
	h := msg.Header
	h[hdrID] = []string{id}
	h[hdrCodec] = c.codecHdr
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
	debug := async.Debugging()
	if debug {
		h[hdrNotify] = []string{"1"}
	}
	// The server would refuse it, every time: say so now.
	if size, limit := msgSize(msg), c.nc.MaxPayload(); limit > 0 && size > limit {
		return async.Rejected[Resp](fmt.Errorf("async: dist.Call %q: request of %d bytes is over the server's limit of %d bytes: %w", name, size, limit, ErrTooLarge))
	}
	if !cfg.wait {
		if err := c.checkWorker(ctx, name); err != nil {
			return async.Rejected[Resp](err)
		}
	}
	if cfg.key != "" {
		c.needForeign(ctx)
	}

	p := newPromise[Resp](debug, name)
	f := p.Future()
	k := newCall(c, p, name, id)
	k.sent, k.msg = msg, msg
	if debug {
		k.awaits = p.Awaits
		p.Awaits("dist: queued for a worker of " + name)
	}
	if !k.start(ctx, dl) {
		return f
	}
	if cfg.key != "" && k.lookup(ctx) {
		return f // callers with one key share one task, which has an outcome
	}
	c.publish(ctx, k, msg)
	return f
}

// callOptions applies opts to a config of their own, so that a call
// without options does not move its config to the heap.
func callOptions(opts []CallOption) callConfig {
	var cfg callConfig
	for _, o := range opts {
		if o == nil {
			panic("async: dist.Call: nil CallOption")
		}
		o(&cfg)
	}
	return cfg
}

// randomID returns a plain call's id: prefix, a dot, and 96 random bits,
// so that nobody can guess the id of another caller's next task and submit
// a task under it first.
func randomID(prefix string) string {
	var b [1 + 16]byte
	b[0] = '.'
	randomText(b[1:])
	return prefix + string(b[:])
}

// randomText fills b with random letters, digits, '-' and '_' (6 bits
// each). Ids are short because every message about a task carries its id
// (the task's message id, its result's subject): the server's work per
// task grows with their length.
func randomText(b []byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i, c := range b {
		b[i] = alphabet[c&63]
	}
}

// msgSize is how much of the server's maximum payload msg takes: its data
// and its headers as the protocol writes them.
func msgSize(msg *nats.Msg) int64 {
	n := len(msg.Data) + len("NATS/1.0\r\n\r\n")
	for k, vs := range msg.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	return int64(n)
}

// Attach returns a future for the outcome of the task with id taskID, made
// by a [Call] of this client or of any other, possibly before a restart (see
// [TaskID]). Resp must be the type the task's handler returns. Attach blocks
// while it looks for a stored outcome (at most a few seconds if the server
// is away; the future then waits for the server). If ctx ends
// first, the future rejects with ctx's error and the task goes on; the
// future's Cancel cancels the task. Outcomes are kept for [ResultTTL]:
// attaching to an older or unknown id waits until ctx ends. An id that
// cannot be a task id settles the future with [ErrInvalidName]. Attach
// panics if ctx or c is nil.
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
	c.needForeign(ctx)
	debug := async.Debugging()
	p := newPromise[Resp](debug, "dist.Attach")
	if debug {
		p.Awaits("dist: task " + taskID)
	}
	f := p.Future()
	k := newCall(c, p, "", taskID)
	k.attach = true
	if k.start(ctx, time.Time{}) {
		k.lookup(ctx)
	}
	return f
}

// newPromise makes a call's promise; in debug mode it is named, so that
// Tasks, Dump and the console list the call as a task awaiting a worker.
func newPromise[Resp any](debug bool, name string) *async.Promise[Resp] {
	if debug {
		return async.NewPromise[Resp](async.Name(name))
	}
	return async.NewPromise[Resp]()
}

// newCall makes the call behind p's future, and attaches to the future a
// hook that holds the task id (for TaskID) and tells the call if the future
// settles by its Cancel. p's future must not be shared yet.
func newCall[Resp any](c *Client, p *async.Promise[Resp], name, id string) *call {
	t := &typedCall[Resp]{p: p}
	t.c, t.name, t.id, t.out = c, name, id, t
	attach.Add(p.Future(), &attach.Hook{Settler: &t.call, Key: id})
	return &t.call
}

// A settler settles a call's future.
type settler interface {
	deliver(rec []byte) // with a stored outcome
	reject(err error)
}

// typedCall is a call and its typed promise, in one allocation.
type typedCall[Resp any] struct {
	call
	p *async.Promise[Resp]
}

func (t *typedCall[Resp]) deliver(rec []byte) {
	v, err := decodeOutcome[Resp](t.c.cfg.codec, t.name, t.id, rec)
	if err != nil {
		t.p.Reject(err)
	} else {
		t.p.Resolve(v)
	}
}

func (t *typedCall[Resp]) reject(err error) { t.p.Reject(err) }

// call is the client side of one pending future. It has no goroutine: the
// client's results watch, the publication handlers, a timer, the context and
// the future's own settlement (Cancel) drive it, and whichever comes first
// takes charge of settling it.
type call struct {
	c        *Client
	name, id string       // name is empty for Attach
	next     *call        // another call awaiting the same task id (guarded by c.mu)
	out      settler      // its typed future
	awaits   func(string) // in debug mode: says what the future waits on
	// sent is the task's message until the server acknowledges it
	// (guarded by c.mu), for a cancel to learn its place in the queue.
	// Dropped then, so that a pending call does not keep its message.
	sent *nats.Msg
	// On the client's list of unacknowledged publications (guarded by
	// c.mu): its neighbours, and when it was published.
	uprev, unext *call
	pubAt        int64 // monoNow
	since        int64 // monoNow when the call was made
	claimed      atomic.Bool
	attach       bool // ending ctx stops waiting, cancels nothing
	onList       bool // guarded by c.mu

	mu       sync.Mutex
	ended    bool
	retries  int32
	msg      *nats.Msg // the task, until the server has it (nil for Attach)
	seq      uint64    // the task's place in the queue, once the server has it
	deadline *time.Timer
	retry    *time.Timer
	stopCtx  func() bool
}

// monoNow reads the monotonic clock, in nanoseconds since the process
// started: a pending call keeps its times in 8 bytes each.
func monoNow() int64 { return int64(time.Since(monoBase)) }

var monoBase = time.Now()

// start registers k with its client and arms what settles it besides an
// outcome: ctx ending, and the deadline dl if it is not zero (the future's
// Cancel reaches k through its hook: see Settled). It reports false if the
// client is closed (k is rejected).
func (k *call) start(ctx context.Context, dl time.Time) bool {
	c := k.c
	k.since = monoNow()
	if !c.add(k) {
		k.fail(ErrClosed)
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ended {
		return true
	}
	if !dl.IsZero() {
		k.deadline = time.AfterFunc(time.Until(dl), func() { c.background(k.expire) })
	}
	if ctx.Done() == nil {
		return true // a context that never ends: nothing to watch
	}
	k.stopCtx = context.AfterFunc(ctx, func() {
		if !k.take() {
			return
		}
		k.out.reject(ctxerr.Of(ctx))
		// A deadline travels with the task: workers end it themselves.
		if !k.attach && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			c.background(func() { k.requestCancel() })
		}
	})
	return true
}

// Settled is told by k's future when it settles. Unless this package
// settled it, the caller canceled it (Cancel): the workers are told.
func (k *call) Settled() {
	if k.take() {
		k.c.background(func() { k.requestCancel() })
	}
}

// take reports whether the caller is the first to take charge of settling
// the future; the first one also unregisters k and disarms its triggers.
func (k *call) take() bool { return k.takeRemoved(false) }

// takeRemoved is take for a caller that has already removed k from its
// client's pending calls and unacknowledged publications, if removed.
func (k *call) takeRemoved(removed bool) bool {
	if !k.claimed.CompareAndSwap(false, true) {
		return false
	}
	if !removed {
		k.c.remove(k)
	}
	k.mu.Lock()
	k.ended, k.msg = true, nil
	stopCtx := k.stopCtx
	timers := [...]*time.Timer{k.deadline, k.retry}
	k.mu.Unlock()
	if stopCtx != nil {
		stopCtx()
	}
	for _, t := range timers {
		if t != nil {
			t.Stop()
		}
	}
	return true
}

func (k *call) settleWith(rec []byte) { k.settleRemoved(rec, false) }

// settleRemoved is settleWith for a caller that has already removed k
// from its client, if removed (see takeRemoved).
func (k *call) settleRemoved(rec []byte, removed bool) {
	if k.takeRemoved(removed) {
		k.out.deliver(rec)
	}
}

func (k *call) fail(err error) {
	if k.take() {
		k.out.reject(err)
	}
}

// published handles a publication that failed: a final error fails the
// call; otherwise the task is published again after a backoff (the
// duplicate window makes that safe).
func (k *call) published(err error) {
	if fe := finalError(k.c.nc, k.c.l.taskSubject(k.name), err); fe != nil {
		k.fail(fmt.Errorf("async: dist.Call %q (%s): publishing: %w", k.name, k.id, fe))
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ended || k.msg == nil {
		return
	}
	d := min(50*time.Millisecond<<min(k.retries, 5), time.Second)
	k.retries++
	k.retry = time.AfterFunc(d, k.republish)
}

func (k *call) republish() {
	k.mu.Lock()
	msg := k.msg
	k.mu.Unlock()
	if msg == nil {
		return // settled, or the server has it
	}
	k.c.mu.Lock()
	k.c.sendLocked(k, msg)
}

// lookup settles the future with the task's stored outcome, if there is one,
// and reports whether it did. The results watch is already on, so an
// outcome stored after the lookup reaches the call too. If the server does
// not answer, lookup tries again in the background while the call waits.
func (k *call) lookup(ctx context.Context) bool {
	gctx, cancel := context.WithTimeout(ctx, apiTimeout)
	e, err := k.c.results.Get(gctx, k.id)
	cancel()
	switch {
	case err == nil:
		k.settleWith(e.Value())
		return true
	case errors.Is(err, jetstream.ErrKeyNotFound) || k.claimed.Load():
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.ended {
		k.retry = time.AfterFunc(time.Second, func() { k.c.background(func() { k.lookup(context.Background()) }) })
	}
	return false
}

// expire settles the future when its deadline passes: with the outcome if
// a worker stored one just in time, else with a timeout. Workers time the
// task out by themselves (the deadline travels with it), so the stored
// outcome will say the same.
func (k *call) expire() {
	if k.claimed.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if e, err := k.c.results.Get(ctx, k.id); err == nil {
		k.settleWith(e.Value())
		return
	}
	k.fail(fmt.Errorf("async: dist: task %q (%s): deadline passed before an outcome was stored: %w", k.name, k.id, async.ErrTimeout))
}

// requestCancel carries a cancellation to the workers: a running handler's
// context ends, a queued task is dropped, and a worker stores "canceled" as
// the task's outcome (clients store no outcomes), unless it has one.
func (k *call) requestCancel() {
	c := k.c
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	_ = c.nc.Publish(c.l.cancelPrefix()+k.id, nil)
	k.mu.Lock()
	seq := k.seq
	k.mu.Unlock()
	if seq == 0 {
		c.mu.Lock()
		sent := k.sent
		c.mu.Unlock()
		if sent == nil { // acknowledged meanwhile: seq is set before sent is dropped
			k.mu.Lock()
			seq = k.seq
			k.mu.Unlock()
		} else if ack, err := c.js.PublishMsg(ctx, &nats.Msg{Subject: sent.Subject, Header: sent.Header, Data: sent.Data}); err == nil {
			// Its acknowledgment has not reached the call yet: publishing
			// the task again within the duplicate window returns the
			// first publication's place (or stores it now, if that one
			// was lost).
			seq = ack.Sequence
		}
	}
	if seq != 0 {
		_ = c.tasks.DeleteMsg(ctx, seq)
	}
	m := nats.NewMsg(c.l.ctlSubject())
	m.Header[hdrCancelID] = []string{k.id}
	m.Header[hdrCancelTask] = []string{k.name}
	_, _ = c.js.PublishMsg(ctx, m)
}

// TaskID returns the id of the task behind a future made by [Call] or
// [Attach]; ok is false for any other future, including one that Call
// rejected before making a task (bad input, no worker). A call rejected
// because its client was closed has an id, though its task was never sent.
func TaskID[T any](f *async.Future[T]) (id string, ok bool) {
	if f == nil {
		return "", false
	}
	if h := attach.Find(f); h != nil {
		return h.Key, true
	}
	return "", false
}
