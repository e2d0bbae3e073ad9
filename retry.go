package async

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/goasync/async/internal/option"
)

// Defaults of the retry options.
const (
	defaultAttempts   = 3
	defaultBackoff    = 100 * time.Millisecond
	defaultBackoffMax = 10 * time.Second
)

func init() {
	// The per-call machinery is this package's; stream reaches it here.
	option.CallRunner = func(c *option.Config) func(context.Context, func(context.Context) error) error {
		return newCallPolicy(c, false).do
	}
}

// Retry calls fn until it succeeds, the attempts run out, its error is not
// to be retried, or ctx ends, and returns the first success or the final
// failure.
//
// Options: [Attempts] (default 3) bounds the calls; [Backoff] (default 100 ms
// doubling up to 10 s) sets the wait before each retry, drawn at random
// between zero and the current bound ("full jitter", so that many clients
// retrying together spread out); [RetryIf] says which errors are worth
// another attempt (default: every error except a [Permanent] one and a
// [*PanicError]); [Timeout] bounds each attempt: its context ends after d
// with cause [ErrTimeout]. An error returned once ctx has ended, and a
// Permanent error, are never retried, whatever RetryIf says.
//
// The waits use [Sleep]: in an event loop they give the loop up, follow the
// loop's [VirtualTime], and with [Seed] the jitter comes from the loop's
// seeded generator, so a seed reproduces the whole schedule. A panic in fn is
// not recovered: it propagates to Retry's caller and is not retried.
//
// On failure Retry returns the zero T and a [*RetryError] that wraps the
// last attempt's error (errors.Is and errors.As reach it) and says how many
// attempts were made; if ctx ended, the error also matches ctx.Err() and its
// cause. Retry panics if ctx or fn is nil.
func Retry[T any](ctx context.Context, fn func(context.Context) (T, error), opts ...CallOption) (T, error) {
	checkCtx("Retry", ctx)
	if fn == nil {
		panic("async: Retry with nil function")
	}
	c := option.Parse("Retry", opts)
	p := newCallPolicy(&c, true)
	var v T
	err := p.do(ctx, func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// Attempts makes a call be retried until it has been made n times in all
// (n = 1: no retry). It applies to [Retry] (default 3), and to each call of
// [Go], [Func], [Map], [MapSettled], [ForEach] and the stream package's
// functions, which are not retried without a retry option. It panics if
// n < 1.
func Attempts(n int) CallOption {
	if n < 1 {
		panic(fmt.Sprintf("async: Attempts(%d): must be at least 1", n))
	}
	return option.Call(option.New(option.Attempts, int64(n), ""))
}

// Backoff sets the wait before each retry: the k-th retry waits a random
// duration between zero and min(initial·2^(k-1), max) (exponential backoff
// with full jitter). The default is Backoff(100*time.Millisecond,
// 10*time.Second); Backoff(0, 0) retries at once. Where it applies, see
// [Attempts]; given alone, it makes calls retried with the default number of
// attempts. It panics if initial < 0 or max < initial.
func Backoff(initial, max time.Duration) CallOption {
	if initial < 0 || max < initial {
		panic(fmt.Sprintf("async: Backoff(%v, %v): want 0 <= initial <= max", initial, max))
	}
	return option.Call(option.NewBackoff(initial, max))
}

// RetryIf sets which errors are retried: those for which fn returns true.
// [Permanent] errors and errors returned once the caller's context has ended
// are never retried, whatever fn says. The default retries every other error
// except a [*PanicError]. Where it applies, see [Attempts]; given alone, it
// makes calls retried with the default number of attempts. It panics if fn
// is nil.
func RetryIf(fn func(error) bool) CallOption {
	if fn == nil {
		panic("async: RetryIf(nil)")
	}
	return option.Call(option.NewRetryIf(fn))
}

// Permanent marks err as not worth retrying: [Retry] and the retry options
// return it at once. The result wraps err (errors.Is(Permanent(err), err)
// holds, and its message is err's); [IsPermanent] detects it anywhere in an
// error's chain, so a Permanent error wrapped further (with %w, in a
// [*TaskError] or a [*RetryError]) stays permanent. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err or any error it wraps was made by
// [Permanent].
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// RetryError is the error of a retried call that did not succeed: of
// [Retry], or of a call given [Attempts], [Backoff] or [RetryIf]. It says
// how many attempts were made and wraps the last attempt's error; if the
// caller's context ended, it also wraps that end (an error matching
// ctx.Err() and its cause).
type RetryError struct {
	Attempts int   // calls made
	Err      error // the last call's error
	ctxErr   error // the caller's context's end, if it stopped the retries
}

func (e *RetryError) Error() string {
	s := "attempts"
	if e.Attempts == 1 {
		s = "attempt"
	}
	if e.ctxErr != nil {
		return fmt.Sprintf("async: %d %s, then %v: %v", e.Attempts, s, e.ctxErr, e.Err)
	}
	return fmt.Sprintf("async: %d %s: %v", e.Attempts, s, e.Err)
}

// Unwrap returns the last attempt's error and, if the caller's context ended,
// its end.
func (e *RetryError) Unwrap() []error {
	if e.ctxErr != nil {
		return []error{e.Err, e.ctxErr}
	}
	return []error{e.Err}
}

// callPolicy is the per-call options of a call: a Timeout per attempt, and
// how to retry.
type callPolicy struct {
	timeout      time.Duration
	retry        bool // retry options were given (or this is Retry itself)
	attempts     int
	initial, max time.Duration
	retryIf      func(error) bool
}

// newCallPolicy reads c's per-call options; retry says to retry even
// without a retry option (for Retry itself).
func newCallPolicy(c *config, retry bool) *callPolicy {
	p := &callPolicy{timeout: c.Timeout, retry: retry || c.Retrying(), attempts: 1}
	if p.retry {
		p.attempts, p.initial, p.max, p.retryIf = defaultAttempts, defaultBackoff, defaultBackoffMax, c.RetryIf
		if c.Attempts > 0 {
			p.attempts = c.Attempts
		}
		if c.HasBackoff {
			p.initial, p.max = c.BackoffInitial, c.BackoffMax
		}
	}
	return p
}

// do runs call under p: each attempt with its Timeout, and retried as p says.
func (p *callPolicy) do(ctx context.Context, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := p.attempt(ctx, call)
		if err == nil {
			return nil
		}
		if !p.retry {
			return err
		}
		if attempt >= p.attempts || !p.retryable(ctx, err) {
			re := &RetryError{Attempts: attempt, Err: err}
			if ctx.Err() != nil {
				re.ctxErr = ctxError(ctx)
			}
			return re
		}
		d := p.delay(ctx, attempt)
		rec := blockBegin(ctx, "Retry backoff", "", d) // debug mode: shown as the wait, not as a Sleep
		serr := Sleep(ctx, d)
		blockEnd(rec)
		if serr != nil {
			return &RetryError{Attempts: attempt, Err: err, ctxErr: serr}
		}
	}
}

// attempt makes one call, with its own deadline if p has a Timeout. An error
// caused by that deadline is marked with ErrTimeout, as a task's is.
func (p *callPolicy) attempt(ctx context.Context, call func(context.Context) error) error {
	if p.timeout <= 0 {
		return call(ctx)
	}
	actx, cancel := withCallTimeout(ctx, p.timeout)
	defer cancel()
	err := call(actx)
	if err != nil && ctx.Err() == nil && context.Cause(actx) == ErrTimeout &&
		errors.Is(err, actx.Err()) && !errors.Is(err, ErrTimeout) {
		err = &tagged{ErrTimeout, err}
	}
	return err
}

func (p *callPolicy) retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || IsPermanent(err) {
		return false
	}
	if p.retryIf != nil {
		return p.retryIf(err)
	}
	var pe *PanicError
	return !errors.As(err, &pe)
}

// delay is the wait after the given failed attempt: full jitter under an
// exponential bound.
func (p *callPolicy) delay(ctx context.Context, attempt int) time.Duration {
	if p.max <= 0 {
		return 0
	}
	bound := p.max
	if shift := attempt - 1; shift < 62 && p.initial <= p.max>>shift {
		bound = p.initial << shift
	}
	n := int64(bound)
	if n < math.MaxInt64 {
		n++ // [0, bound] inclusive
	}
	return time.Duration(jitter(ctx, n))
}

// jitter returns a random number in [0, n): from ctx's loop's seeded
// generator when it has one, so that a seed reproduces the schedule.
func jitter(ctx context.Context, n int64) int64 {
	if l := loopOf(ctx); l != nil && l.rng != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.rng.Int64N(n)
	}
	return rand.Int64N(n)
}

// withCallTimeout derives the context of one call that has a Timeout: it
// ends after d with cause ErrTimeout, on the loop's virtual clock in a loop
// that has one.
func withCallTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if l := loopOf(ctx); l != nil && l.clock != nil {
		inner, cancel := context.WithCancelCause(ctx)
		vd := &virtualDeadline{Context: inner, deadline: l.clock.Now().Add(d)}
		stop := l.clock.AfterFunc(d, func() {
			cancel(ErrTimeout)
			l.needScan.Store(true) // a task may wait with it in the loop
		})
		return vd, func() { stop(); cancel(context.Canceled) }
	}
	return context.WithTimeoutCause(ctx, d, ErrTimeout)
}

// virtualDeadline is a call's context with a Timeout on a loop's virtual
// clock: it reports that deadline, and ends as a deadline does (Err is
// context.DeadlineExceeded, the cause ErrTimeout).
type virtualDeadline struct {
	context.Context // a child of the caller's context, canceled at the deadline
	deadline        time.Time
}

func (c *virtualDeadline) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *virtualDeadline) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == ErrTimeout {
		return context.DeadlineExceeded
	}
	return err
}
