package dist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// A Worker runs the functions registered on it for tasks that clients
// [Call]. Many workers, on many machines, may serve the same function: each
// task goes to one of them. Register functions, then [Worker.Run].
type Worker struct {
	nc       *nats.Conn
	cfg      workerConfig
	l        layout
	mu       sync.Mutex
	handlers map[string]handler
	started  bool

	ready chan struct{} // closed once Run serves
	drops dropLog

	// Set up by Run.
	js       jetstream.JetStream
	results  jetstream.KeyValue
	sem      chan struct{}        // one token per task taken: being fetched, prefetched or running
	slots    chan struct{}        // one token per running task
	waiting  map[*waiter]struct{} // prefetched tasks waiting for a slot; guarded by mu
	nwaiting atomic.Int32         // len(waiting), read without the lock
	storing  chan struct{}        // one token per outcome being stored
	work     chan delivery        // to the handler goroutines
	running  map[string]*taskRun
	canceled recentIDs      // cancel requests for tasks not running here
	tasks    sync.WaitGroup // handlers in flight, and their outcomes being stored
	stopping chan struct{}  // closed when Run's context ends

	// Outcomes being stored without a goroutine waiting (see storeAsync):
	// the server answers on storeInbox plus a random number, as hard to
	// guess as the tokens of the nats client's own requests.
	storeInbox string
	storeSub   *nats.Subscription
	storeMu    sync.Mutex
	stores     map[uint64]*pendingStore
}

// handler runs a registered function on an encoded request. It returns the
// encoded response, or a failure; it may call runtime.Goexit through fn.
type handler func(ctx context.Context, codec Codec, data []byte) ([]byte, *wireError)

// A taskRun is a task whose handler runs here: it is the handler's context
// (ended by the task's deadline or its caller's cancel, and carrying the
// Task that Current reads), and what cancel requests and heartbeats need.
// One allocation per task holds both.
type taskRun struct {
	context.Context
	task     Task
	msg      jetstream.Msg
	cancel   context.CancelCauseFunc
	lastBeat time.Time // guarded by the worker's mu
}

func (r *taskRun) Value(key any) any {
	if _, ok := key.(taskKey); ok {
		return &r.task
	}
	return r.Context.Value(key)
}

// NewWorker returns a worker that talks to NATS through nc. It returns an
// error if nc is nil or closed. Options: [Concurrency], [Prefetch], [AckWait],
// [DrainTimeout], [WorkerName], [Logger], [Namespace], [Encoding],
// [ResultTTL], [MaxQueued], [Replicas].
func NewWorker(nc *nats.Conn, opts ...WorkerOption) (*Worker, error) {
	if nc == nil {
		return nil, errors.New("async: dist.NewWorker: nil *nats.Conn")
	}
	if nc.IsClosed() {
		return nil, errors.New("async: dist.NewWorker: connection is closed")
	}
	cfg := workerConfig{common: defaultCommon(), concurrency: max(16, runtime.GOMAXPROCS(0)), prefetch: -1, ackWait: 30 * time.Second, drain: 30 * time.Second, log: slog.Default()}
	for _, o := range opts {
		if o == nil {
			panic("async: dist.NewWorker: nil option")
		}
		o.applyWorker(&cfg)
	}
	if cfg.prefetch < 0 {
		cfg.prefetch = cfg.concurrency
	}
	if cfg.name == "" {
		host, _ := os.Hostname()
		cfg.name = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), nuid.Next()[16:])
	}
	return &Worker{nc: nc, cfg: cfg, l: newLayout(cfg.ns), handlers: map[string]handler{}, ready: make(chan struct{}), drops: dropLog{l: cfg.log}}, nil
}

// Register makes fn serve tasks called with name. fn runs with a context
// that ends when the task's deadline passes or a caller cancels it (not when
// the worker stops: Run lets running handlers finish). Its error settles the
// caller's future as a [*RemoteError]; a panic is recovered and reported with
// its stack. [Current] tells fn which task and attempt it is running.
//
// Register panics if w or fn is nil, if name is not made of letters,
// digits, '-' and '_', if name is already registered, or if Run has started.
func Register[Req, Resp any](w *Worker, name string, fn func(context.Context, Req) (Resp, error)) {
	if w == nil {
		panic("async: dist.Register on nil *Worker")
	}
	if !validName(name) {
		panic(fmt.Sprintf("async: dist.Register(%q): name must be 1-128 letters, digits, '-' or '_'", name))
	}
	if fn == nil {
		panic(fmt.Sprintf("async: dist.Register(%q): nil function", name))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		panic(fmt.Sprintf("async: dist.Register(%q) after Worker.Run", name))
	}
	if _, dup := w.handlers[name]; dup {
		panic(fmt.Sprintf("async: dist.Register(%q): name already registered", name))
	}
	w.handlers[name] = func(ctx context.Context, codec Codec, data []byte) (out []byte, fail *wireError) {
		// Decoding and encoding run the codec, and possibly the types' own
		// methods, on bytes from the network: a panic there is the task's
		// failure, final (retrying cannot change the bytes), never the
		// process's.
		inCodec := true
		defer func() {
			if r := recover(); r != nil {
				msg := fmt.Sprint(r)
				if inCodec {
					msg = "in the codec: " + msg
				}
				out, fail = nil, &wireError{Kind: kindPanic, Message: msg, Stack: string(debug.Stack()), permanent: inCodec}
			}
		}()
		var req Req
		if err := codec.Unmarshal(data, &req); err != nil {
			return nil, &wireError{Kind: kindError, Message: "decoding request: " + err.Error(), permanent: true}
		}
		inCodec = false
		resp, err := fn(ctx, req)
		if err != nil {
			return nil, failureOf(ctx, err)
		}
		inCodec = true
		b, err := codec.Marshal(resp)
		if err != nil {
			return nil, &wireError{Kind: kindError, Message: "encoding response: " + err.Error(), permanent: true}
		}
		return b, nil
	}
}

// failureOf classifies a handler's error: a timeout or cancellation of the
// task's own context is reported as such, so the caller's error matches
// async.ErrTimeout or async.ErrCanceled.
func failureOf(ctx context.Context, err error) *wireError {
	f := &wireError{Kind: kindError, Message: err.Error()}
	f.permanent = async.IsPermanent(err)
	if ctx.Err() != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded) && errors.Is(context.Cause(ctx), context.DeadlineExceeded):
			f.Kind = kindTimeout
		case errors.Is(err, context.Canceled) && errors.Is(context.Cause(ctx), errTaskCanceled):
			f.Kind = kindCanceled
		}
	}
	return f
}

// errTaskCanceled is the cause of a handler context ended by a caller's
// Cancel.
var errTaskCanceled = fmt.Errorf("async: dist: task canceled by its caller: %w", context.Canceled)

// beforeRunning, for tests, runs in handle after its check for cancel
// requests and before the task counts as running; nil in production.
var beforeRunning atomic.Pointer[func(w *Worker, id string)]

// Task describes the task a handler is running.
type Task struct {
	ID       string    // the task's id, as TaskID gives it to the caller
	Name     string    // the function name it was called with
	Attempt  int       // delivery number, from 1
	Deadline time.Time // zero when the call had none
}

type taskKey struct{}

// Current returns the task that a handler's context belongs to; ok is false
// for any other context.
func Current(ctx context.Context) (t Task, ok bool) {
	if p, ok := ctx.Value(taskKey{}).(*Task); ok && p != nil {
		return *p, true
	}
	return Task{}, false
}

// Ready returns a channel that is closed once Run serves: its consumers
// exist and it advertises its functions, so a [Call] made then needs no
// [WaitForWorker].
func (w *Worker) Ready() <-chan struct{} { return w.ready }

// Run serves tasks until ctx ends, then stops taking tasks, lets the running
// handlers finish and store their results (for up to [DrainTimeout]; those
// still running then are canceled and their tasks handed back to the
// queue), withdraws the worker's entries from the workers bucket, and
// returns nil. It returns an error without serving if nothing is registered,
// the streams cannot be set up (the connection is down and stays down for
// the API timeout), or a function's queue is served with another [AckWait].
// A lost connection while serving is not an error: Run resumes when it is
// back. A connection closed for good is: Run stops and returns an error.
// Run panics if called twice.
func (w *Worker) Run(ctx context.Context) error {
	if w == nil {
		panic("async: dist.Worker.Run on nil *Worker")
	}
	if ctx == nil {
		panic("async: dist.Worker.Run with nil Context")
	}
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		panic("async: dist.Worker.Run called twice")
	}
	w.started = true
	names := make([]string, 0, len(w.handlers))
	for n := range w.handlers {
		names = append(names, n)
	}
	w.mu.Unlock()
	if len(names) == 0 {
		return errors.New("async: dist.Worker.Run: no function registered")
	}
	closed := w.nc.StatusChanged(nats.CLOSED)
	defer w.nc.RemoveStatusListener(closed)
	if w.nc.IsClosed() {
		return fmt.Errorf("async: dist.Worker.Run: %w", nats.ErrConnectionClosed)
	}

	js, err := jetstream.New(w.nc)
	if err != nil {
		return fmt.Errorf("async: dist.Worker.Run: %w", err)
	}
	w.js = js
	setupCtx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	results, workers, err := ensureLayout(setupCtx, js, w.l, w.cfg.common, true)
	if err != nil {
		return err
	}
	w.results = results
	consumers := make([]jetstream.Consumer, len(names))
	for i, name := range names {
		consumers[i], err = w.consumer(setupCtx, name)
		if err != nil {
			return err
		}
	}
	ctl, err := w.ctlConsumer(setupCtx)
	if err != nil {
		return err
	}

	w.sem = make(chan struct{}, w.cfg.concurrency+w.cfg.prefetch)
	w.slots = make(chan struct{}, w.cfg.concurrency)
	w.waiting = map[*waiter]struct{}{}
	w.storing = make(chan struct{}, 4*w.cfg.concurrency)
	w.running = map[string]*taskRun{}
	w.stopping = make(chan struct{})
	sub, err := w.nc.Subscribe(w.l.cancelPrefix()+">", w.onCancel)
	if err != nil {
		return fmt.Errorf("async: dist.Worker.Run: %w", err)
	}
	w.storeInbox, w.stores = w.nc.NewInbox()+".", map[uint64]*pendingStore{}
	w.storeSub, err = w.nc.Subscribe(w.storeInbox+">", w.onStored)
	if err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("async: dist.Worker.Run: %w", err)
	}
	base := context.WithoutCancel(ctx)
	w.advertise(ctx, workers, names)

	// Intake ends when ctx ends or the connection is closed for good.
	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	var lost error
	go func() {
		select {
		case <-closed:
			lost = fmt.Errorf("async: dist.Worker.Run: connection closed: %w (last error: %v)", nats.ErrConnectionClosed, w.nc.LastError())
			stopIntake()
		case <-intake.Done():
		}
	}()

	// Handlers run on long-lived goroutines, whose stacks stay grown. A task
	// holds a token of sem (taken, waiting for a slot or running) or a
	// storing token while it has a goroutine, so with one goroutine per
	// token a task taken always finds an idle goroutine.
	w.work = make(chan delivery)
	var pool sync.WaitGroup
	for range 5*w.cfg.concurrency + w.cfg.prefetch {
		pool.Add(1)
		go w.serve(base, &pool)
	}
	var loops sync.WaitGroup
	share := max(1, (w.cfg.concurrency+w.cfg.prefetch+len(names)-1)/len(names))
	for i, name := range names {
		loops.Go(func() { w.fetchLoop(intake, name, consumers[i], share) })
	}
	loops.Go(func() { w.ctlLoop(intake, ctl) })
	housekeeping := make(chan struct{})
	var hk sync.WaitGroup
	hk.Go(func() { w.housekeep(housekeeping, workers, names) })
	close(w.ready)

	<-intake.Done()
	close(w.stopping)
	loops.Wait() // no new tasks
	w.drain()
	close(w.work)
	pool.Wait()
	close(housekeeping)
	hk.Wait()
	_ = sub.Unsubscribe()
	_ = w.storeSub.Unsubscribe()
	w.withdraw(workers, names)
	if ctx.Err() == nil {
		return lost
	}
	return nil
}

// drain waits for the running handlers to finish and store their outcomes;
// after the drain timeout it cancels the handlers still running, whose
// tasks then go back to the queue.
func (w *Worker) drain() {
	drained := make(chan struct{})
	go func() {
		w.tasks.Wait()
		close(drained)
	}()
	t := time.NewTimer(w.cfg.drain)
	defer t.Stop()
	select {
	case <-drained:
		return
	case <-t.C:
	}
	w.mu.Lock()
	for _, r := range w.running {
		r.cancel(errDraining)
	}
	w.mu.Unlock()
	<-drained
}

// errDraining is the cause of a handler context ended by the drain timeout.
var errDraining = fmt.Errorf("async: dist: worker stopping (drain timeout passed): %w", context.Canceled)

// consumer returns the durable consumer of name's tasks, creating it if
// needed. Its ack wait belongs to the function's queue, shared by all its
// workers: a worker that asks for another one fails to start rather than
// change it under the others.
func (w *Worker) consumer(ctx context.Context, name string) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: w.l.taskSubject(name),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       w.cfg.ackWait,
		MaxDeliver:    -1, // each task carries its own MaxAttempts
		MaxAckPending: -1,
	}
	for range 2 {
		c, err := w.js.Consumer(ctx, w.l.tasksStream, name)
		if err == nil {
			if have := c.CachedInfo().Config.AckWait; have != w.cfg.ackWait {
				return nil, fmt.Errorf("async: dist: function %q is served with AckWait %v, this worker asks for %v: "+
					"start it with AckWait(%v), or stop the other workers and delete consumer %q of stream %s to change it",
					name, have, w.cfg.ackWait, have, name, w.l.tasksStream)
			}
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("async: dist: consumer %q: %w", name, err)
		}
		c, err = w.js.CreateConsumer(ctx, w.l.tasksStream, cfg)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerExists) {
			return nil, fmt.Errorf("async: dist: creating consumer %q: %w", name, err)
		}
		// Another worker created it first: check its ack wait.
	}
	return nil, fmt.Errorf("async: dist: consumer %q keeps changing", name)
}

// ctlConsumer returns the consumer of cancel requests, which all workers of
// the namespace share.
func (w *Worker) ctlConsumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := w.js.CreateOrUpdateConsumer(ctx, w.l.tasksStream, jetstream.ConsumerConfig{
		Durable:       ctlConsumer,
		FilterSubject: w.l.ctlSubject(),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("async: dist: creating the consumer of cancel requests: %w", err)
	}
	return c, nil
}

// fetchLoop takes tasks of one function while intake lasts. It asks the
// server only for as many tasks as it has free slots and room for
// prefetched ones, so a busy worker leaves the other queued tasks to idle
// ones. While prefetched tasks wait for a slot, the handlers are busy and
// the loop waits for room for up to share tasks: one larger pull costs the
// server less per task than several small ones.
func (w *Worker) fetchLoop(ctx context.Context, name string, cons jetstream.Consumer, share int) {
	b := newBackoff()
	for {
		select {
		case w.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
		for n < share {
			select {
			case w.sem <- struct{}{}:
				n++
				continue
			default:
			}
			if w.nwaiting.Load() == 0 {
				break
			}
			select {
			case w.sem <- struct{}{}:
				n++
			case <-ctx.Done():
				for range n {
					<-w.sem
				}
				return
			}
		}
		got := 0
		err := fetch(ctx, cons, n, func(m jetstream.Msg) {
			got++
			w.tasks.Add(1)
			w.work <- delivery{name: name, msg: m, at: time.Now()}
		})
		for ; got < n; got++ {
			<-w.sem
		}
		if cons = w.afterFetch(ctx, err, b, cons, func(ctx context.Context) (jetstream.Consumer, error) { return w.consumer(ctx, name) }); cons == nil {
			return
		}
	}
}

// ctlLoop takes cancel requests while intake lasts.
func (w *Worker) ctlLoop(ctx context.Context, cons jetstream.Consumer) {
	b := newBackoff()
	for {
		err := fetch(ctx, cons, 64, w.onCancelRequest)
		if cons = w.afterFetch(ctx, err, b, cons, w.ctlConsumer); cons == nil {
			return
		}
	}
}

// fetch asks cons for up to n messages, waiting at most a second, and
// passes each to fn.
func fetch(ctx context.Context, cons jetstream.Consumer, n int, fn func(jetstream.Msg)) error {
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	batch, err := cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		return err
	}
	for m := range batch.Messages() {
		fn(m)
	}
	return batch.Error()
}

// afterFetch decides what a fetch loop does next: it returns the consumer
// to fetch from (made anew if the server lost it), or nil once ctx ended.
func (w *Worker) afterFetch(ctx context.Context, err error, b *backoff, cons jetstream.Consumer, remake func(context.Context) (jetstream.Consumer, error)) jetstream.Consumer {
	if ctx.Err() != nil {
		return nil
	}
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		b.reset()
		return cons
	}
	// The connection or the server is away, or the consumer was lost with
	// a server that kept no state: wait, then make it again.
	if !b.wait(ctx) {
		return nil
	}
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrNoHeartbeat) {
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		if _, _, lerr := ensureLayout(cctx, w.js, w.l, w.cfg.common, true); lerr == nil {
			if c, cerr := remake(cctx); cerr == nil {
				return c
			}
		}
	}
	return cons
}

// A delivery is a task handed to a handler goroutine.
type delivery struct {
	name string
	msg  jetstream.Msg
	at   time.Time // when it arrived
}

// A waiter is a prefetched task waiting for a handler slot, known to the
// heartbeats. Each serving goroutine has one, used for each task it holds.
type waiter struct {
	msg      jetstream.Msg
	id       string    // the task's id, as its message says (unchecked)
	lastBeat time.Time // guarded by the worker's mu
	canceled bool      // a cancel request came while it waited; guarded by mu
}

// serve runs deliveries until the work channel closes. If a handler ends
// its goroutine with runtime.Goexit (after handle has settled its task),
// serve starts a replacement.
func (w *Worker) serve(base context.Context, pool *sync.WaitGroup) {
	closed := false
	defer func() {
		if !closed {
			go w.serve(base, pool)
			return
		}
		pool.Done()
	}()
	wt := new(waiter)
	for d := range w.work {
		if since, canceled, ok := w.waitSlot(d, wt); ok {
			w.handle(base, d.name, d.msg, since, canceled)
		}
	}
	closed = true
}

// waitSlot takes a handler slot for d. A task that finds none free is
// prefetched: it waits, heartbeated like a running task so that its ack
// wait does not expire, and if the worker stops first it is handed back to
// the queue at once (Nak) and waitSlot reports false. since is the last
// time the server heard of the task (its arrival, or its last heartbeat);
// canceled reports a cancel request for the task while it waited, which
// the recent cancel requests may have forgotten since.
func (w *Worker) waitSlot(d delivery, wt *waiter) (since time.Time, canceled, ok bool) {
	select {
	case w.slots <- struct{}{}:
		return d.at, false, true
	default:
	}
	wt.msg, wt.lastBeat, wt.canceled = d.msg, d.at, false
	if v := d.msg.Headers()[hdrID]; len(v) > 0 {
		wt.id = v[0]
	}
	w.mu.Lock()
	w.waiting[wt] = struct{}{}
	w.mu.Unlock()
	w.nwaiting.Add(1)
	select {
	case w.slots <- struct{}{}:
		ok = true
		select {
		case <-w.stopping: // both were ready: stopping wins
			<-w.slots
			ok = false
		default:
		}
	case <-w.stopping:
	}
	w.nwaiting.Add(-1)
	w.mu.Lock()
	delete(w.waiting, wt)
	since, canceled = wt.lastBeat, wt.canceled
	w.mu.Unlock()
	wt.msg, wt.id = nil, ""
	if !ok {
		_ = d.msg.Nak()
		<-w.sem
		w.tasks.Done()
	}
	return since, canceled, ok
}

// A job is one delivery of a task being handled.
type job struct {
	m        jetstream.Msg
	id, name string
	attempt  int
}

// handle runs one delivered task and settles it: outcome stored then ack,
// or a nak for a retry. It releases the task's slot. Every way out either
// stores an outcome before the ack, hands the task back, or drops a message
// that cannot be a task (Term, logged).
func (w *Worker) handle(base context.Context, name string, m jetstream.Msg, since time.Time, canceled bool) {
	// handedOff is set once the handler's value is being stored without
	// this goroutine (storeAsync): storeDone then does what the defers
	// below do.
	handedOff := false
	defer func() {
		if !handedOff {
			w.tasks.Done()
		}
	}()
	// The task's slot is for running its handler; storing the outcome
	// holds a storing token instead, so a slow store does not keep the
	// next task from starting (the tokens bound the stores in flight).
	slotHeld := true
	release := func() {
		if slotHeld {
			slotHeld = false
			w.storing <- struct{}{}
			w.freeSlot()
		}
	}
	defer func() {
		if slotHeld {
			w.freeSlot()
		} else if !handedOff {
			<-w.storing
		}
	}()

	delivered, _, ok := ackPosition(m.Reply())
	if !ok {
		md, err := m.Metadata()
		if err != nil {
			w.drop(m, "task message without metadata", "error", err)
			return
		}
		delivered = md.NumDelivered
	}
	j := job{m: m, name: name, attempt: int(delivered)}
	meta, err := parseMeta(m.Headers(), name)
	j.id = meta.id
	if errors.Is(err, errInvalidID) {
		w.drop(m, "task message with an invalid id", "function", name, "id", capText(meta.id))
		return
	}
	fail := func(f *wireError) {
		f.Task, f.Worker, f.Attempt = name, w.cfg.name, j.attempt
		if w.finish(j, errorRecord(f)) && f.Kind == kindDead {
			_ = w.nc.Publish(w.l.deadSubject(name), []byte(j.id)) // counted by Stats
		}
	}
	if err != nil {
		fail(&wireError{Kind: kindError, Message: "malformed task: " + err.Error()})
		return
	}
	id := meta.id
	w.mu.Lock()
	canceled = canceled || w.canceled.has(id)
	w.mu.Unlock()
	if canceled {
		fail(&wireError{Kind: kindCanceled, Message: "canceled by the caller before it started"})
		return
	}
	if j.attempt > 1 || meta.keyed {
		// A redelivery, or a keyed task submitted again: its outcome
		// may already be stored.
		gctx, cancel := context.WithTimeout(base, apiTimeout)
		_, err := w.results.Get(gctx, id)
		cancel()
		if err == nil {
			_ = m.Ack()
			return
		}
	}
	if j.attempt > meta.maxAttempts {
		fail(&wireError{Kind: kindDead, Message: fmt.Sprintf("delivered %d times without an outcome (workers died, stalled or handed it back when stopping); MaxAttempts is %d", j.attempt-1, meta.maxAttempts)})
		return
	}
	if !meta.deadline.IsZero() && !time.Now().Before(meta.deadline) {
		fail(&wireError{Kind: kindTimeout, Message: "deadline passed before the task started"})
		return
	}
	if meta.codec != w.cfg.codec.Name() {
		fail(&wireError{Kind: kindError, Message: fmt.Sprintf("task encoded with codec %q, worker uses %q", meta.codec, w.cfg.codec.Name())})
		return
	}
	w.mu.Lock()
	h := w.handlers[name]
	w.mu.Unlock()

	parent := base
	var cancelDeadline context.CancelFunc = func() {}
	if !meta.deadline.IsZero() {
		parent, cancelDeadline = context.WithDeadline(parent, meta.deadline)
	}
	cctx, cancel := context.WithCancelCause(parent)
	run := &taskRun{Context: cctx, task: Task{ID: id, Name: name, Attempt: j.attempt, Deadline: meta.deadline}, msg: m, cancel: cancel, lastBeat: since}
	var ctx context.Context = run
	if h := beforeRunning.Load(); h != nil {
		(*h)(w, id) // tests: a cancel request between the check and here
	}
	w.mu.Lock()
	w.running[id] = run
	// A cancel that came after the check above (a redelivered or keyed
	// task looks up a stored result in between) found no running task:
	// it is in the recent requests, so it ends the handler's context now.
	late := w.canceled.has(id)
	w.mu.Unlock()
	if late {
		cancel(errTaskCanceled)
	}
	if meta.notify {
		_ = w.nc.Publish(w.l.startedPrefix()+id, []byte(w.cfg.name))
	}

	var (
		out      []byte
		f        *wireError
		returned bool
	)
	defer func() { // deferred, so that it also runs if fn called runtime.Goexit
		if !returned {
			f = &wireError{Kind: kindError, Message: "handler called runtime.Goexit", permanent: true}
		}
		defer func() { // heartbeated until stored, in case storing is slow
			if !handedOff {
				w.notRunning(run)
			}
		}()
		drained := errors.Is(context.Cause(ctx), errDraining)
		cancel(nil)
		cancelDeadline()
		release()
		switch {
		case f != nil && drained:
			_ = m.Nak() // the worker stops: another one runs the task
		case f == nil:
			rec := valueRecord(out)
			if handedOff = w.storeAsync(j, rec, run); !handedOff {
				w.finish(j, rec)
			}
		case meta.retry && !f.permanent && (f.Kind == kindError || f.Kind == kindPanic):
			if j.attempt < meta.maxAttempts {
				_ = m.NakWithDelay(meta.delay(j.attempt))
				return
			}
			f.Last, f.Kind = f.Kind, kindDead
			fail(f)
		default:
			fail(f)
		}
	}()
	out, f = h(ctx, w.cfg.codec, m.Data())
	returned = true
}

// freeSlot releases a running task's slot, then its token of sem: a task
// that holds a token finds a slot unless others wait for one.
func (w *Worker) freeSlot() {
	<-w.slots
	<-w.sem
}

// A pendingStore is a handler's value being written to the results
// bucket while no goroutine waits for the server's answer.
type pendingStore struct {
	j   job
	rec []byte
	run *taskRun
	at  int64 // monoNow when sent
}

// storeAsync sends rec, the value of run's handler, as a create-only write
// whose answer onStored receives; it reports false if it did not (the
// record is too large to send as is, or the connection refused it), for
// the caller to finish the task itself. The task is acked once the server
// answers that the outcome is stored; any other answer, or none within
// apiTimeout (see expireStores), hands it to finish, which retries.
// Until then the task holds its storing token, is counted in w.tasks and
// keeps its heartbeats.
func (w *Worker) storeAsync(j job, rec []byte, run *taskRun) bool {
	if limit := w.nc.MaxPayload(); limit > 0 && int64(len(rec))+recordOverhead > limit {
		return false
	}
	ps := &pendingStore{j: j, rec: rec, run: run, at: monoNow()}
	w.storeMu.Lock()
	n := rand.Uint64() >> 1 // at most 19 digits, as parseUint reads
	for n == 0 || w.stores[n] != nil {
		n = rand.Uint64() >> 1
	}
	w.stores[n] = ps
	w.storeMu.Unlock()
	msg := &nats.Msg{Subject: w.l.resultSubject(j.id), Reply: w.storeInbox + strconv.FormatUint(n, 10), Data: rec, Header: createOnly}
	if err := w.nc.PublishMsg(msg); err != nil {
		return w.claimStore(n) == nil // answered already (it cannot be), or taken back
	}
	return true
}

// claimStore takes store n off the pending ones; nil if it is not there
// (answered, or expired).
func (w *Worker) claimStore(n uint64) *pendingStore {
	w.storeMu.Lock()
	defer w.storeMu.Unlock()
	ps := w.stores[n]
	delete(w.stores, n)
	return ps
}

// onStored receives the server's answer to a store sent by storeAsync.
func (w *Worker) onStored(m *nats.Msg) {
	n, ok := strings.CutPrefix(m.Subject, w.storeInbox)
	if !ok {
		return
	}
	ps := w.claimStore(parseUint(n))
	if ps == nil {
		return
	}
	if _, err := storeAnswer(m); err != nil {
		go w.finishStore(ps) // retried, or given up, as a synchronous store
		return
	}
	_ = ps.j.m.Ack()
	w.storeDone(ps)
}

// finishStore stores ps's outcome the synchronous way, with finish's
// retries and its handling of final errors.
func (w *Worker) finishStore(ps *pendingStore) {
	w.finish(ps.j, ps.rec)
	w.storeDone(ps)
}

// storeDone releases what a task held while its outcome was stored.
func (w *Worker) storeDone(ps *pendingStore) {
	w.notRunning(ps.run)
	<-w.storing
	w.tasks.Done()
}

// expireStores hands the stores the server has not answered within
// apiTimeout (the answer was lost, with a connection, say) to finish.
func (w *Worker) expireStores(now int64) {
	var late []*pendingStore
	w.storeMu.Lock()
	for n, ps := range w.stores {
		if now-ps.at >= int64(apiTimeout) {
			delete(w.stores, n)
			late = append(late, ps)
		}
	}
	w.storeMu.Unlock()
	for _, ps := range late {
		go w.finishStore(ps)
	}
}

// notRunning forgets run: its task no longer runs here.
func (w *Worker) notRunning(run *taskRun) {
	w.mu.Lock()
	if w.running[run.task.ID] == run {
		delete(w.running, run.task.ID)
	}
	w.mu.Unlock()
}

// recordOverhead is room for the headers that a results-bucket write adds
// to the record.
const recordOverhead = 256

// finish stores a task's outcome, unless one is stored already, and then
// acknowledges the task; it reports whether it did. An outcome too large to store is replaced by an
// error saying so. If no outcome can be stored because the server refuses
// it for good (permissions, say), the task is dropped (Term, logged); if
// the connection is closed, or stays down long after Run was asked to stop,
// the task is left unacknowledged, to be delivered again.
func (w *Worker) finish(j job, rec []byte) (stored bool) {
	limit := w.nc.MaxPayload()
	if limit > 0 && int64(len(rec))+recordOverhead > limit {
		rec = w.tooLarge(j, len(rec), limit)
	}
	err := w.store(j.id, rec)
	if errors.Is(err, ErrTooLarge) && rec[0] == recValue {
		// The results stream's own limit is lower than the connection's.
		err = w.store(j.id, w.tooLarge(j, len(rec), limit))
	}
	switch {
	case err == nil:
		_ = j.m.Ack()
		return true
	case errors.Is(err, errGaveUp):
	default:
		w.drop(j.m, "cannot store the outcome of a task", "function", j.name, "id", j.id, "error", err)
	}
	return false
}

func (w *Worker) tooLarge(j job, size int, limit int64) []byte {
	return errorRecord(&wireError{Kind: kindTooLarge, Task: j.name, Worker: w.cfg.name, Attempt: j.attempt,
		Message: fmt.Sprintf("result of %d bytes is over the server's limit of %d bytes", size-1, limit-recordOverhead)})
}

// errGaveUp is store's error when the connection is closed, or stays down
// long after Run was asked to stop.
var errGaveUp = errors.New("async: dist: gave up storing an outcome")

// store writes an outcome, retrying while the server is away. It returns
// nil if the outcome is stored or an earlier one stays (first writer wins),
// a final error if the server refuses the write for good, or errGaveUp.
func (w *Worker) store(id string, rec []byte) error {
	b := newBackoff()
	var stopAt time.Time
	for {
		_, err := storeOutcome(w.nc, w.l, id, rec, apiTimeout)
		if err == nil {
			return nil
		}
		if fe := finalError(w.nc, w.l.resultSubject(id), err); fe != nil {
			return fe
		}
		if w.nc.IsClosed() {
			return errGaveUp
		}
		select {
		case <-w.stopping:
			if stopAt.IsZero() {
				stopAt = time.Now()
			} else if time.Since(stopAt) > time.Minute {
				return errGaveUp
			}
		default:
		}
		b.sleep()
	}
}

// drop terminates a message that cannot be handled, so that it is never
// delivered again and holds nothing, and logs why.
func (w *Worker) drop(m jetstream.Msg, why string, args ...any) {
	_ = m.Term()
	w.drops.warn(why, append(args, "subject", m.Subject(), "worker", w.cfg.name)...)
}

// maxCanceled bounds the cancel requests a worker remembers for tasks not
// running on it, and cancelMemory how long it remembers one.
const (
	maxCanceled  = 10_000
	cancelMemory = 10 * time.Minute
)

// onCancel handles a caller's cancel message: it ends the handler's context
// if the task runs here, and otherwise remembers the id for a while, so that
// a delivery soon after stores "canceled" instead of running the task; a
// task prefetched here is marked, however long it then waits for a slot.
func (w *Worker) onCancel(msg *nats.Msg) {
	id := strings.TrimPrefix(msg.Subject, w.l.cancelPrefix())
	if !validTaskID(id) {
		return
	}
	w.mu.Lock()
	r := w.running[id]
	if r == nil {
		w.canceled.add(id, time.Now())
		// A prefetched task may wait longer than the recent cancel
		// requests are remembered: it keeps its own mark.
		for wt := range w.waiting {
			if wt.id == id {
				wt.canceled = true
			}
		}
	}
	w.mu.Unlock()
	if r != nil {
		r.cancel(errTaskCanceled)
	}
}

// onCancelRequest stores "canceled" as the outcome of the task a cancel
// request names, unless it has one (clients store no outcomes), and acks
// the request once that is done.
func (w *Worker) onCancelRequest(m jetstream.Msg) {
	h := m.Headers()
	id, name := h.Get(hdrCancelID), h.Get(hdrCancelTask)
	if !validTaskID(id) || name != "" && !validName(name) {
		w.drop(m, "cancel request with an invalid task id or name", "id", capText(id), "function", capText(name))
		return
	}
	rec := errorRecord(&wireError{Kind: kindCanceled, Task: name, Message: "canceled by the caller", Worker: w.cfg.name})
	_, err := storeOutcome(w.nc, w.l, id, rec, apiTimeout)
	switch fe := finalError(w.nc, w.l.resultSubject(id), err); {
	case err == nil:
		_ = m.Ack()
	case fe != nil:
		w.drop(m, "cannot store the outcome of a canceled task", "id", id, "error", fe)
	default:
		_ = m.NakWithDelay(time.Second)
	}
}

// housekeep heartbeats running and prefetched tasks so they are not redelivered while
// their handler is alive, refreshes the worker's entries in the workers
// bucket, and forgets old cancel requests.
func (w *Worker) housekeep(stop <-chan struct{}, workers jetstream.KeyValue, names []string) {
	beat := w.cfg.ackWait / 3
	tick := time.NewTicker(min(beat/2, workerRefresh))
	defer tick.Stop()
	lastAdvert := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			var due []jetstream.Msg
			w.mu.Lock()
			for _, r := range w.running {
				if now.Sub(r.lastBeat) >= beat {
					r.lastBeat = now
					due = append(due, r.msg)
				}
			}
			for wt := range w.waiting {
				if now.Sub(wt.lastBeat) >= beat {
					wt.lastBeat = now
					due = append(due, wt.msg)
				}
			}
			w.canceled.forget(now.Add(-cancelMemory))
			w.mu.Unlock()
			for _, m := range due {
				_ = m.InProgress()
			}
			w.expireStores(monoNow())
			if now.Sub(lastAdvert) >= workerRefresh {
				lastAdvert = now
				w.advertise(context.Background(), workers, names)
			}
		}
	}
}

// workerKey is the workers-bucket key saying this worker serves name.
func (w *Worker) workerKey(name string) string {
	id := []byte(w.cfg.name)
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			id[i] = '_'
		}
	}
	return name + "." + string(id)
}

func (w *Worker) advertise(ctx context.Context, workers jetstream.KeyValue, names []string) {
	for _, name := range names {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiTimeout)
		_, _ = workers.Put(actx, w.workerKey(name), []byte(w.cfg.name))
		cancel()
	}
}

// withdraw deletes the worker's entries, if the server is reachable now;
// otherwise they expire with the bucket's time to live.
func (w *Worker) withdraw(workers jetstream.KeyValue, names []string) {
	if !w.nc.IsConnected() {
		return
	}
	for _, name := range names {
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		_ = workers.Delete(ctx, w.workerKey(name))
		cancel()
	}
}

// backoff waits between attempts to reach a server that is away: 50ms,
// doubling up to 1s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 50 * time.Millisecond} }

func (b *backoff) reset() { b.d = 50 * time.Millisecond }

func (b *backoff) next() time.Duration {
	d := b.d
	b.d = min(2*b.d, time.Second)
	return d
}

func (b *backoff) sleep() { time.Sleep(b.next()) }

// wait sleeps for the next delay; it reports false if ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
