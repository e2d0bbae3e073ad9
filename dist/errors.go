package dist

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goasync/async"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	// ErrNoWorker is the error of a call to a function that no live worker
	// has registered, unless the call asked to [WaitForWorker].
	ErrNoWorker = errors.New("async: dist: no worker serves this function")

	// ErrDeadLetter matches the error of a task given up after
	// [MaxAttempts] deliveries. The error is a [*RemoteError] that also
	// unwraps to the last attempt's failure, when there was one.
	ErrDeadLetter = errors.New("async: dist: task dead-lettered")

	// ErrClosed is the error of futures still pending when their [Client]
	// is closed. Their tasks go on; [Attach] from another client awaits
	// them.
	ErrClosed = errors.New("async: dist: client closed")

	// ErrTooLarge matches the error of a request, or of a result, bigger
	// than the server accepts (the connection's maximum payload, or the
	// results stream's maximum message size). It wraps nats.ErrMaxPayload,
	// so errors.Is(err, nats.ErrMaxPayload) holds too. The error's text
	// names the size and the limit.
	ErrTooLarge = fmt.Errorf("async: dist: message too large: %w", nats.ErrMaxPayload)

	// ErrQueueFull matches the error of a call made while the queue holds
	// [MaxQueued] tasks.
	ErrQueueFull = errors.New("async: dist: task queue full")

	// ErrInvalidName is the error of a call with a function name that is
	// empty or not made of letters, digits, '-' and '_'.
	ErrInvalidName = errors.New("async: dist: invalid function name")
)

// RemoteError is the error of a task that failed on a worker, or was settled
// as failed on its behalf (dead-lettered, timed out, canceled). errors.Is and
// errors.As see through it: a remote panic unwraps to an [*async.PanicError]
// whose Stack is the worker's stack text, a timeout to [async.ErrTimeout], a
// cancellation to [async.ErrCanceled], and a dead letter to [ErrDeadLetter].
type RemoteError struct {
	// Task is the function name, TaskID the task's id.
	Task, TaskID string
	// Worker names the worker that reported the failure; empty when a
	// client settled the task (a timeout or cancellation nobody ran).
	Worker string
	// Attempt is the delivery that failed, counting from 1 (0 if the task
	// never ran).
	Attempt int
	// Message is the remote error's text (err.Error() on the worker, or
	// the panic value), at most 64 KB of it.
	Message    string
	causes     []error
	kind, last string // the record's kind, and for a dead letter the last failure's
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "async: dist: task %q (%s)", e.Task, e.TaskID)
	if e.Worker != "" {
		fmt.Fprintf(&b, " on worker %s", e.Worker)
	}
	if e.Attempt > 0 {
		fmt.Fprintf(&b, ", attempt %d", e.Attempt)
	}
	b.WriteString(": ")
	switch e.kind {
	case kindDead:
		fmt.Fprintf(&b, "dead-lettered after %d attempts: ", e.Attempt)
		if e.last == kindPanic {
			b.WriteString("last attempt panicked: ")
		}
	case kindPanic:
		b.WriteString("panicked: ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns what the failure matches: an [*async.PanicError] for a
// panic, and sentinel errors such as [ErrDeadLetter] or [async.ErrTimeout].
func (e *RemoteError) Unwrap() []error { return e.causes }

// Permanent marks err as not to be retried: a call with [Retry] settles
// with it at once. It is [async.Permanent], so an error marked for either
// package's retries is final for both. Permanent(nil) is nil.
func Permanent(err error) error { return async.Permanent(err) }

// finalError returns err as a caller should see it when publishing to
// subject cannot succeed however often it is tried (nil when a retry may
// help): the message is too large, the server rejects the subject, the
// connection lacks the permission or is closed for good, or the queue is
// full.
func finalError(nc *nats.Conn, subject string, err error) error {
	var api *jetstream.APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrMaxPayload):
		return ErrTooLarge
	case errors.As(err, &api) && api.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum:
		return fmt.Errorf("%w: %v", ErrTooLarge, err)
	case errors.As(err, &api) && strings.Contains(api.Description, "maximum messages"):
		return fmt.Errorf("%w: %v", ErrQueueFull, err)
	case errors.Is(err, nats.ErrBadSubject), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrPermissionViolation), errors.Is(err, nats.ErrHeadersNotSupported):
		return err
	}
	// A publication the server refuses for want of permission is answered
	// by nothing but an asynchronous error on the connection; the request
	// just times out. That error names the subject.
	if last := nc.LastError(); errors.Is(last, nats.ErrPermissionViolation) && strings.Contains(last.Error(), `"`+subject+`"`) {
		return last
	}
	return nil
}
