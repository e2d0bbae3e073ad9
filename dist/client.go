package dist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/async"
	"github.com/goasync/async/internal/ctxerr"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// A Client submits tasks with [Call] and awaits results with [Attach]. One
// client serves any number of goroutines; make one per process and close it
// when done.
type Client struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	cfg     clientConfig
	l       layout
	id      string // prefix of this client's task ids
	seq     atomic.Uint64
	tasks   jetstream.Stream
	results jetstream.KeyValue
	workers jetstream.KeyValue
	watch   jetstream.ConsumeContext

	mu      sync.Mutex
	pending map[string]*call     // by task id: calls awaiting the results watch
	live    map[string]time.Time // function names seen served, and when
	checks  map[string]*workerCheck
	closed  bool
	done    chan struct{} // closed by Close
	calls   sync.WaitGroup
	bg      sync.WaitGroup // background worker checks
}

// A check that a function has a worker is trusted for liveFor; until
// staleFor, calls go ahead while it is checked again in the background.
const (
	liveFor  = time.Second
	staleFor = 10 * time.Second
)

// NewClient returns a client that talks to NATS through nc. It creates the
// streams and buckets if needed and starts watching for its results before
// it returns. It returns an error if nc is nil or closed, or if JetStream does
// not answer within 5 seconds. Options: [Namespace], [Encoding].
func NewClient(nc *nats.Conn, opts ...ClientOption) (*Client, error) {
	if nc == nil {
		return nil, errors.New("async: dist.NewClient: nil *nats.Conn")
	}
	if nc.IsClosed() {
		return nil, errors.New("async: dist.NewClient: connection is closed")
	}
	cfg := clientConfig{common: defaultCommon()}
	for _, o := range opts {
		if o == nil {
			panic("async: dist.NewClient: nil option")
		}
		o.applyClient(&cfg)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096), jetstream.WithPublishAsyncTimeout(apiTimeout))
	if err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	c := &Client{
		nc: nc, js: js, cfg: cfg, l: newLayout(cfg.ns), id: nuid.Next(),
		pending: map[string]*call{}, live: map[string]time.Time{}, checks: map[string]*workerCheck{}, done: make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if c.results, c.workers, err = ensureLayout(ctx, js, c.l); err != nil {
		return nil, err
	}
	if c.tasks, err = js.Stream(ctx, c.l.tasksStream); err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	// Watch this client's results from the results stream's current end. An
	// explicit start sequence (rather than "new messages only") lets the
	// ordered consumer resume without a gap if the server restarts before
	// the first result.
	rs, err := js.Stream(ctx, c.l.resultsStream())
	if err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	cons, err := js.OrderedConsumer(ctx, c.l.resultsStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{c.l.resultSubject(c.id + ".>")},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    rs.CachedInfo().State.LastSeq + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	if c.watch, err = cons.Consume(c.onResult); err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	return c, nil
}

// onResult receives a stored outcome of one of this client's tasks.
func (c *Client) onResult(m jetstream.Msg) {
	if m.Headers().Get("KV-Operation") != "" {
		return // a delete or purge (expiry), not an outcome
	}
	id := strings.TrimPrefix(m.Subject(), "$KV."+c.l.results+".")
	c.mu.Lock()
	k := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if k != nil && k.claim() {
		k.deliver(m.Data())
	}
}

// Close stops watching for results and rejects the futures still pending with
// [ErrClosed]; it waits for the client's goroutines to end. Their tasks are
// not canceled: another client can [Attach] to them. Close does not close
// the connection. Calls after Close return futures rejected with ErrClosed.
func (c *Client) Close() {
	if c == nil {
		panic("async: dist.Client.Close on nil *Client")
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.done)
	c.mu.Unlock()
	c.watch.Stop()
	c.calls.Wait() // each call's goroutine rejects its future with ErrClosed
	c.bg.Wait()
}

// forget drops a call that no longer awaits the results watch.
func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// checkWorker returns ErrNoWorker if no worker has advertised name within the
// workers bucket's time to live. A check that cannot reach the server does
// not fail the call: the task is queued. Concurrent calls share one check,
// and a name seen served recently is checked again in the background, so
// that calls do not wait for the lookup.
func (c *Client) checkWorker(ctx context.Context, name string) error {
	c.mu.Lock()
	seen, ok := c.live[name]
	age := time.Since(seen)
	if ok && age < liveFor {
		c.mu.Unlock()
		return nil
	}
	chk := c.checks[name]
	if chk == nil {
		chk = &workerCheck{done: make(chan struct{})}
		c.checks[name] = chk
		if ok && age < staleFor && !c.closed {
			c.bg.Add(1)
			c.mu.Unlock()
			go func() {
				defer c.bg.Done()
				c.runCheck(context.Background(), name, chk)
			}()
			return nil
		}
		c.mu.Unlock()
		c.runCheck(ctx, name, chk)
		return chk.err
	}
	c.mu.Unlock()
	if ok && age < staleFor {
		return nil // a background check is under way
	}
	select {
	case <-chk.done:
		return chk.err
	case <-ctx.Done():
		return ctxerr.Of(ctx)
	}
}

// runCheck looks name up and records the answer for the calls that follow.
func (c *Client) runCheck(ctx context.Context, name string, chk *workerCheck) {
	chk.err = c.lookupWorker(ctx, name)
	c.mu.Lock()
	delete(c.checks, name)
	if chk.err == nil {
		c.live[name] = time.Now()
	} else {
		delete(c.live, name)
	}
	c.mu.Unlock()
	close(chk.done)
}

// A workerCheck is a lookup in the workers bucket that concurrent calls wait
// for.
type workerCheck struct {
	done chan struct{}
	err  error
}

func (c *Client) lookupWorker(ctx context.Context, name string) error {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiTimeout)
	defer cancel()
	lister, err := c.workers.ListKeysFiltered(lctx, name+".>")
	if err != nil {
		return nil
	}
	found := false
	for range lister.Keys() {
		found = true
	}
	if lctx.Err() != nil {
		return nil // incomplete answer: don't fail fast on a guess
	}
	if !found {
		return fmt.Errorf("%w: %q", ErrNoWorker, name)
	}
	return nil
}

// call is the client side of one future: it publishes the task, and settles
// or cancels the future.
type call struct {
	c       *Client
	name    string // empty for Attach
	id      string
	done    <-chan struct{}        // the future's Done
	reject  func(error) bool       // settles the future with an error
	deliver func(rec []byte)       // settles the future with a stored outcome
	msg     *nats.Msg              // nil for Attach
	dl      time.Time              // the task's deadline, or zero
	claimed atomic.Bool            // the outcome, a cancel or Close has taken charge
	ownKey  bool                   // keyed call or Attach: outcomes come from a per-task watch
	recs    <-chan []byte          // outcomes from the per-task watch, once it runs
	stopW   func()                 // stops the per-task watch
	attach  bool                   // Attach: ending ctx stops waiting, cancels nothing
	ack     jetstream.PubAckFuture // the latest publication of the task
}

// claim reports whether the caller is the first to take charge of the
// future's settlement.
func (k *call) claim() bool { return k.claimed.CompareAndSwap(false, true) }

// follow runs on the call's goroutine until the future settles: it confirms
// the publication (publishing again on failure, which the duplicate window
// makes safe), settles the future at its deadline if no worker did, and
// carries a cancellation (Cancel, or ctx ending) to the workers.
func (k *call) follow(ctx context.Context) {
	defer k.c.calls.Done()
	defer k.c.forget(k.id)
	defer func() {
		if k.stopW != nil {
			k.stopW()
		}
	}()
	var timeout <-chan time.Time
	if !k.dl.IsZero() {
		t := time.NewTimer(time.Until(k.dl))
		defer t.Stop()
		timeout = t.C
	}
	// Only a failed publication wakes this goroutine; the acknowledgment
	// (the task's place in the queue) is read when a cancel needs it.
	var failed <-chan error
	if k.ack != nil {
		failed = k.ack.Err()
	}
	var retry <-chan time.Time
	backoff := newBackoff()
	if k.msg != nil && k.ack == nil {
		retry = time.After(0) // the first publication failed
	}
	var rewatch <-chan time.Time
	watchBackoff := newBackoff()
	if k.ownKey && k.recs == nil {
		rewatch = time.After(watchBackoff.next()) // the watch could not start
	}
	for {
		select {
		case <-failed:
			failed, k.ack = nil, nil
			retry = time.After(backoff.next())
		case <-retry:
			retry = nil
			var err error
			if k.ack, err = k.c.js.PublishMsgAsync(k.msg); err == nil {
				failed = k.ack.Err()
			} else {
				retry = time.After(backoff.next())
			}
		case rec := <-k.recs:
			if k.claim() {
				k.deliver(rec)
			}
			return
		case <-rewatch:
			rewatch = nil
			if rec, ok := k.watchKey(context.Background()); ok {
				if k.claim() {
					k.deliver(rec)
				}
				return
			}
			if k.recs == nil {
				rewatch = time.After(watchBackoff.next())
			}
		case <-k.done:
			// Settled: by an outcome (claimed), or by Cancel.
			if k.claim() {
				k.cancelRemote(kindCanceled, "canceled by the caller")
			}
			return
		case <-ctx.Done():
			if k.claim() {
				k.reject(ctxerr.Of(ctx))
				if !k.attach {
					kind := kindCanceled
					if errors.Is(ctx.Err(), context.DeadlineExceeded) {
						kind = kindTimeout
					}
					k.cancelRemote(kind, "the caller's context ended: "+ctx.Err().Error())
				}
			}
			return
		case <-timeout:
			timeout = nil
			// Settle the task as timed out unless a worker stored an
			// outcome first; the stored outcome then reaches the future.
			if stored, err := k.cancelRemote(kindTimeout, "deadline passed before the task finished"); !stored && err != nil && k.claim() {
				k.reject(fmt.Errorf("async: dist: task %q (%s): deadline passed (outcome not stored: %v): %w", k.name, k.id, err, async.ErrTimeout))
				return
			}
		case <-k.c.done:
			if k.claim() {
				k.reject(ErrClosed)
			}
			return
		}
	}
}

// cancelRemote stores a canceled or timed-out outcome for the task unless
// one is stored already, and if it was stored, drops the task from the queue
// and tells the worker running it to stop; the publication's acknowledgment
// gives the task's place in the queue. stored
// reports whether this outcome was stored; err is set when no outcome is
// known to be stored.
func (k *call) cancelRemote(kind, msg string) (stored bool, err error) {
	c := k.c
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	stored, err = storeOutcome(ctx, c.js, c.l, k.id, errorRecord(&wireError{Kind: kind, Task: k.name, Message: msg}))
	if !stored {
		return false, err
	}
	if k.ack != nil {
		select {
		case a := <-k.ack.Ok():
			_ = c.tasks.DeleteMsg(ctx, a.Sequence)
		case <-k.ack.Err():
		case <-ctx.Done():
		}
	}
	_ = c.nc.Publish(c.l.cancelPrefix()+k.id, nil)
	return true, nil
}
