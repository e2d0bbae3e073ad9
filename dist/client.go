package dist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/async/internal/ctxerr"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A Client submits tasks with [Call] and awaits results with [Attach]. One
// client serves any number of goroutines; make one per process and close it
// when done.
//
// A client costs a fixed number of goroutines and server-side consumers,
// however many calls are pending: one watch of its own tasks' results, and,
// from the first [Key] or [Attach] on, one watch of the namespace's
// results. A pending call is an entry in a map, a timer if it has a
// deadline, and its message until the server has stored it.
type Client struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	cfg clientConfig
	l   layout
	id  string // prefix of this client's task ids
	// codecHdr is the codec header's value, shared by every task
	// message (the client never modifies it, nor does the nats client).
	codecHdr []string
	tasks    jetstream.Stream
	results  jetstream.KeyValue
	workers  jetstream.KeyValue
	own      *resultWatch       // results of this client's tasks
	started  *nats.Subscription // which worker runs a task, for calls made in debug mode
	// Task publications are requests whose reply subject is pubPrefix
	// and the task id; pubAcks receives the server's acknowledgments.
	pubPrefix string
	pubAcks   *nats.Subscription

	startForeign sync.Mutex   // held while the watch of every result starts
	retrying     atomic.Bool  // a goroutine tries to start it again
	swept        atomic.Int64 // outcomes the sweep found that the watches had missed

	mu      sync.Mutex
	pending map[string]*call     // by task id: calls awaiting an outcome
	foreign *resultWatch         // every task's result, for keyed calls and Attach; nil until needed
	live    map[string]time.Time // function names seen served, and when
	checks  map[string]*workerCheck
	unacked unackedList // publications the server has not acknowledged yet
	closed  bool
	done    chan struct{} // closed by Close
	bg      sync.WaitGroup
}

// A check that a function has a worker is trusted for liveFor; until
// staleFor, calls go ahead while it is checked again in the background.
const (
	liveFor  = time.Second
	staleFor = 10 * time.Second
)

// NewClient returns a client that talks to NATS through nc. It creates the
// streams and buckets if they do not exist (a client never changes them:
// workers do) and starts watching for its results before it returns. It
// returns an error if nc is nil or closed, or if JetStream does not answer
// within 5 seconds. Options: [Namespace], [Encoding], [ResultTTL],
// [MaxQueued], [Replicas].
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
	c := &Client{
		nc: nc, cfg: cfg, l: newLayout(cfg.ns), id: clientID(), codecHdr: []string{cfg.codec.Name()}, pubPrefix: nc.NewInbox() + ".",
		pending: map[string]*call{}, live: map[string]time.Time{}, checks: map[string]*workerCheck{}, done: make(chan struct{}),
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	c.js = js
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if c.results, c.workers, err = ensureLayout(ctx, js, c.l, cfg.common, false); err != nil {
		return nil, err
	}
	if c.tasks, err = js.Stream(ctx, c.l.tasksStream); err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	if c.own, err = c.watchResults(ctx, c.id+".>", 0); err != nil {
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	if c.started, err = nc.Subscribe(c.l.startedPrefix()+c.id+".>", c.onStarted); err != nil {
		c.own.stop()
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	if c.pubAcks, err = nc.Subscribe(c.pubPrefix+">", c.onPubAck); err != nil {
		c.own.stop()
		_ = c.started.Unsubscribe()
		return nil, fmt.Errorf("async: dist.NewClient: %w", err)
	}
	c.bg.Go(c.sweep)
	return c, nil
}

// clientID returns a client's prefix of its task ids: 48 random bits. Two
// clients with the same prefix would only see each other's outcomes go by.
func clientID() string {
	var b [8]byte
	randomText(b[:])
	return string(b[:])
}

// A resultWatch delivers the results stored under some keys to onResult.
type resultWatch struct {
	keys string
	seen atomic.Uint64 // the results stream's sequence of the last result delivered
	stop func()
}

// watchResults starts a watch of the results stored under keys (a
// wildcard), from sequence from, or from the results stream's current end
// if from is 0. The watch is an ordered pull consumer, which recreates
// itself after a reconnect or a server restart, resuming after the last
// result it delivered; an explicit start sequence (rather than "new
// messages only") leaves no gap if the server restarts before the first
// result.
func (c *Client) watchResults(ctx context.Context, keys string, from uint64) (*resultWatch, error) {
	if from == 0 {
		rs, err := c.js.Stream(ctx, c.l.resultsStream())
		if err != nil {
			return nil, err
		}
		from = rs.CachedInfo().State.LastSeq + 1
	}
	cons, err := c.js.OrderedConsumer(ctx, c.l.resultsStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{c.l.resultSubject(keys)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return nil, err
	}
	rw := &resultWatch{keys: keys}
	rw.seen.Store(from - 1)
	prefix := len(c.l.resultSubject(""))
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if _, seq, ok := ackPosition(m.Reply()); ok {
			rw.seen.Store(seq)
		} else if md, err := m.Metadata(); err == nil {
			rw.seen.Store(md.Sequence.Stream)
		}
		if m.Headers().Get("KV-Operation") != "" || len(m.Subject()) < prefix {
			return // a delete or purge (expiry), not an outcome
		}
		c.onResult(m.Subject()[prefix:], m.Data())
	})
	if err != nil {
		return nil, err
	}
	rw.stop = cc.Stop
	return rw, nil
}

// sweepEvery is how often a client looks for outcomes its watches missed;
// sweepBatch bounds the calls it looks up each time.
var sweepEvery = 10 * time.Second

const sweepBatch = 32

// sweep is a safety net under the results watches: every sweepEvery it
// reads the stored outcome of a few calls pending for longer than that.
// One found means a watch missed it (a stream leader change on a cluster
// has been seen to stall one): the call settles, and the watches start
// again after the last result they delivered, which replays what they
// missed.
func (c *Client) sweep() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		cutoff := monoNow() - int64(sweepEvery)
		var old []string
		c.mu.Lock()
		for id, k := range c.pending {
			if k.since < cutoff {
				old = append(old, id)
				if len(old) == sweepBatch {
					break
				}
			}
		}
		c.mu.Unlock()
		missed := false
		for _, id := range old {
			ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
			e, err := c.results.Get(ctx, id)
			cancel()
			if err == nil {
				missed = true
				c.swept.Add(1)
				c.onResult(id, e.Value())
			}
		}
		if missed {
			c.rewatch()
		}
	}
}

// rewatch starts the watches again after the last result each delivered.
func (c *Client) rewatch() {
	c.startForeign.Lock() // no foreign watch starts meanwhile
	defer c.startForeign.Unlock()
	for _, w := range []**resultWatch{&c.own, &c.foreign} {
		c.mu.Lock()
		old := *w
		c.mu.Unlock()
		if old == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		nw, err := c.watchResults(ctx, old.keys, old.seen.Load()+1)
		cancel()
		if err != nil {
			continue // the next sweep tries again
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			nw.stop()
			return
		}
		*w = nw
		c.mu.Unlock()
		old.stop()
	}
}

// needForeign starts the watch of every task's result, which keyed calls
// and Attach need (their task ids are not this client's), unless it runs.
// It stays on until Close: starting it costs a round trip. If the server
// cannot start it now (it is away, or electing a leader), the call waits
// all the same: the watch is started again in the background, and the
// sweep finds outcomes stored meanwhile.
func (c *Client) needForeign(ctx context.Context) {
	if c.startWatch(ctx) != nil && c.retrying.CompareAndSwap(false, true) {
		c.background(func() {
			defer c.retrying.Store(false)
			b := newBackoff()
			for c.startWatch(context.Background()) != nil {
				select {
				case <-c.done:
					return
				case <-time.After(b.next()):
				}
			}
		})
	}
}

// startWatch starts the watch of every task's result unless it runs.
func (c *Client) startWatch(ctx context.Context) error {
	c.startForeign.Lock()
	defer c.startForeign.Unlock()
	c.mu.Lock()
	running := c.foreign != nil
	c.mu.Unlock()
	if running {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	w, err := c.watchResults(wctx, ">", 0)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		w.stop()
		return ErrClosed
	}
	c.foreign = w
	c.mu.Unlock()
	return nil
}

// onResult receives a stored outcome; the calls awaiting it settle.
func (c *Client) onResult(id string, rec []byte) {
	c.mu.Lock()
	k := c.pending[id]
	if k != nil {
		delete(c.pending, id)
		for p := k; p != nil; p = p.next {
			c.unacked.remove(p)
		}
	}
	c.mu.Unlock()
	for ; k != nil; k = k.next {
		k.settleRemoved(rec, true)
	}
}

// onStarted hears from a worker that it runs one of this client's tasks
// (sent only for calls made in debug mode) and shows it in the registry.
func (c *Client) onStarted(m *nats.Msg) {
	id := strings.TrimPrefix(m.Subject, c.l.startedPrefix())
	worker := string(m.Data)
	if len(worker) > 256 {
		worker = worker[:256]
	}
	c.mu.Lock()
	var awaits []func(string)
	for k := c.pending[id]; k != nil; k = k.next {
		if k.awaits != nil {
			awaits = append(awaits, k.awaits)
		}
	}
	c.mu.Unlock()
	for _, a := range awaits {
		a("dist: running on worker " + worker)
	}
}

// add registers k as awaiting its task's outcome. It reports false if the
// client is closed.
func (c *Client) add(k *call) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	k.next = c.pending[k.id]
	c.pending[k.id] = k
	return true
}

// remove drops k from the calls awaiting an outcome, if it is there.
func (c *Client) remove(k *call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unacked.remove(k)
	head := c.pending[k.id]
	if head == k {
		if k.next == nil {
			delete(c.pending, k.id)
		} else {
			c.pending[k.id] = k.next
		}
		return
	}
	for p := head; p != nil; p = p.next {
		if p.next == k {
			p.next = k.next
			return
		}
	}
}

// onPubAck receives the server's answer to a task publication: it
// records where the server stored the task (a cancel deletes it from
// there) and lets go of its message, or hands an error to the calls that
// published it. The answer names its task by its reply subject; calls
// with one id (a Key) share one task, so one answer serves them all.
func (c *Client) onPubAck(m *nats.Msg) {
	id, ok := strings.CutPrefix(m.Subject, c.pubPrefix)
	if !ok {
		return
	}
	seq, err := parsePubAck(m)
	var failed []*call
	c.mu.Lock()
	for k := c.pending[id]; k != nil; k = k.next {
		if !c.unacked.remove(k) {
			continue // not awaiting an answer: settled, or answered already
		}
		if err != nil {
			failed = append(failed, k)
			continue
		}
		k.mu.Lock()
		k.seq, k.msg = seq, nil
		k.mu.Unlock()
		k.sent = nil // after seq: see requestCancel
	}
	c.mu.Unlock()
	for _, k := range failed {
		k.published(err)
	}
}

// parsePubAck reads the stream sequence from a JetStream publication's
// answer, or returns the error it holds.
func parsePubAck(m *nats.Msg) (uint64, error) {
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		return 0, jetstream.ErrNoStreamResponse // no stream leader right now
	}
	if err := pubAckError(m.Data); err != nil {
		return 0, err
	}
	_, rest, _ := bytes.Cut(m.Data, []byte(`"seq":`))
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	seq := parseUint(string(rest[:end]))
	if seq == 0 {
		return 0, jetstream.ErrInvalidJSAck
	}
	return seq, nil
}

// publish sends k's task, first waiting while maxUnacked publications
// await the server's answer (backpressure), unless ctx ends, the client
// is closed or k settles first. An answer that does not come within
// apiTimeout counts as an error that publishes the task again.
func (c *Client) publish(ctx context.Context, k *call, msg *nats.Msg) {
	c.mu.Lock()
	for c.unacked.n >= maxUnacked && !c.closed && !k.claimed.Load() {
		room := c.unacked.room
		if room == nil {
			room = make(chan struct{})
			c.unacked.room = room
		}
		c.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
		case <-c.done:
		}
		c.mu.Lock()
		if ctx.Err() != nil {
			break
		}
	}
	c.sendLocked(k, msg)
}

// sendLocked publishes msg, k's task, and keeps k among the publications
// awaiting the server's answer, unless the client is closed or k settled
// (Close or the context settles the call then). c.mu is held on entry and
// released.
func (c *Client) sendLocked(k *call, msg *nats.Msg) {
	if c.closed || k.claimed.Load() {
		c.mu.Unlock()
		return
	}
	c.unacked.add(k, c.expireUnacked)
	c.mu.Unlock()
	if err := c.nc.PublishMsg(msg); err != nil {
		c.mu.Lock()
		c.unacked.remove(k)
		c.mu.Unlock()
		k.published(err)
	}
}

// maxUnacked bounds the task publications awaiting the server's answer;
// Call waits for room beyond it.
const maxUnacked = 4096

// expireUnacked fails the publications not answered within apiTimeout;
// they are published again after a backoff (see call.published).
func (c *Client) expireUnacked() {
	var late []*call
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := monoNow()
	for k := c.unacked.head; k != nil && now-k.pubAt >= int64(apiTimeout); k = c.unacked.head {
		c.unacked.remove(k)
		late = append(late, k)
	}
	c.unacked.rearm(now)
	c.mu.Unlock()
	for _, k := range late {
		k.published(jetstream.ErrAsyncPublishTimeout)
	}
}

// unackedList holds the calls whose task publication awaits the server's
// answer, oldest first, with one timer for the oldest one's timeout. It is
// guarded by the client's mu.
type unackedList struct {
	head, tail *call
	n          int
	room       chan struct{} // closed when n drops below maxUnacked, for Calls waiting
	timer      *time.Timer
	armed      bool
}

// add puts k at the end of the list (moving it there if it was on it).
func (l *unackedList) add(k *call, expire func()) {
	l.remove(k)
	k.pubAt = monoNow()
	k.onList = true
	k.uprev = l.tail
	if l.tail != nil {
		l.tail.unext = k
	} else {
		l.head = k
	}
	l.tail = k
	l.n++
	if !l.armed {
		l.armed = true
		if l.timer == nil {
			l.timer = time.AfterFunc(apiTimeout, expire)
		} else {
			l.timer.Reset(apiTimeout)
		}
	}
}

// remove takes k off the list; it reports whether k was on it.
func (l *unackedList) remove(k *call) bool {
	if !k.onList {
		return false
	}
	if k.uprev != nil {
		k.uprev.unext = k.unext
	} else {
		l.head = k.unext
	}
	if k.unext != nil {
		k.unext.uprev = k.uprev
	} else {
		l.tail = k.uprev
	}
	k.uprev, k.unext, k.onList = nil, nil, false
	l.n--
	if l.room != nil && l.n < maxUnacked {
		close(l.room)
		l.room = nil
	}
	return true
}

// rearm sets the timer for the oldest publication's timeout, if any.
func (l *unackedList) rearm(now int64) {
	l.armed = l.head != nil
	if l.armed {
		l.timer.Reset(time.Duration(l.head.pubAt + int64(apiTimeout) - now))
	}
}

// background runs fn on a goroutine that Close waits for; once the client
// is closed it runs nothing.
func (c *Client) background(fn func()) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.bg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.bg.Done()
		fn()
	}()
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
	pending := c.pending
	c.pending = map[string]*call{}
	c.mu.Unlock()
	c.startForeign.Lock() // a rewatch under way has finished
	c.mu.Lock()
	own, foreign := c.own, c.foreign
	c.mu.Unlock()
	c.startForeign.Unlock()
	own.stop()
	_ = c.started.Unsubscribe()
	_ = c.pubAcks.Unsubscribe()
	c.mu.Lock()
	if c.unacked.timer != nil {
		c.unacked.timer.Stop()
	}
	c.mu.Unlock()
	if foreign != nil {
		foreign.stop()
	}
	for _, k := range pending {
		for ; k != nil; k = k.next {
			k.fail(ErrClosed)
		}
	}
	c.bg.Wait()
}

// Stats counts a function's tasks.
type Stats struct {
	// Queued tasks wait for a worker; Running ones have been handed to a
	// worker that has not yet stored their outcome (including the ones a
	// worker has prefetched and that wait there for a slot: [Prefetch]).
	Queued, Running uint64
	// DeadLettered counts the tasks given up after MaxAttempts deliveries
	// within the results' retention ([ResultTTL]).
	DeadLettered uint64
}

// Stats reports how many of name's tasks are queued, running and
// dead-lettered. It asks the server (three requests) and returns its error.
func (c *Client) Stats(ctx context.Context, name string) (Stats, error) {
	if !validName(name) {
		return Stats{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	var st Stats
	count := func(stream, subject string) (uint64, error) {
		s, err := c.js.Stream(ctx, stream)
		if err != nil {
			return 0, err
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
		if err != nil {
			return 0, err
		}
		return info.State.Subjects[subject], nil
	}
	inQueue, err := count(c.l.tasksStream, c.l.taskSubject(name))
	if err != nil {
		return st, fmt.Errorf("async: dist: Stats(%q): %w", name, err)
	}
	if cons, err := c.js.Consumer(ctx, c.l.tasksStream, name); err == nil {
		if info, err := cons.Info(ctx); err == nil {
			st.Running = uint64(info.NumAckPending)
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return st, fmt.Errorf("async: dist: Stats(%q): %w", name, err)
	}
	st.Running = min(st.Running, inQueue)
	st.Queued = inQueue - st.Running
	if st.DeadLettered, err = count(c.l.deadStream, c.l.deadSubject(name)); err != nil {
		return st, fmt.Errorf("async: dist: Stats(%q): %w", name, err)
	}
	return st, nil
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
