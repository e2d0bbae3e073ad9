// Package dist runs async tasks on a fleet of machines: [Call] publishes a
// task to NATS JetStream and returns the same [*async.Future] that async's
// combinators, scopes and tools understand; any [Worker] that registered the
// function name runs it and the result comes back to the future.
//
// # Guarantees
//
// A task is a message on a JetStream work-queue stream; a worker runs the
// handler, stores the outcome (value or error) in a key-value bucket under the
// task's id with a create-only write, and then acknowledges the message.
//
//   - At-least-once execution: a task whose worker dies, or stops
//     heartbeating for longer than the ack wait, is delivered again to another
//     worker. A handler can therefore run more than once for one task, so its
//     side effects should be idempotent (or keyed by the task id from [Current]).
//   - Exactly-once result: the first stored outcome wins; every future of the
//     task, including ones made later with [Attach] or a duplicate [Key], sees
//     that one outcome. A redelivered task whose outcome is already stored is
//     acknowledged without running again.
//   - Nothing hangs silently: a task that keeps failing is dead-lettered after
//     [MaxAttempts] deliveries ([ErrDeadLetter]), a [Timeout] settles the
//     future when it passes even if no worker is alive, a name that no
//     worker serves fails at once with [ErrNoWorker] (unless the caller
//     chose [WaitForWorker]), and a request or result bigger than the server
//     accepts fails with [ErrTooLarge]. A task is acknowledged only once an
//     outcome is stored: its result, its error, or "canceled".
//   - Hostile input is contained: a worker checks every task message (id,
//     headers, sizes) before it takes a slot for it, terminates and logs one
//     it cannot handle, recovers panics of the codec on either side, caps the
//     texts it stores, and treats errors that cannot succeed on retry as
//     final. A worker whose connection is closed for good returns from
//     [Worker.Run] with an error.
//   - Bounded costs: a pending call holds no goroutine and no server-side
//     consumer (a client watches all its results through one subscription),
//     workers remember at most 10,000 cancel requests, and [MaxQueued] bounds
//     the queue.
//
// Streams and buckets (names start with the [Namespace], "ASYNC" by default)
// are created on first use: NAME_TASKS (work queue of tasks and cancel
// requests), NAME_RESULTS (outcomes, kept for [ResultTTL]), NAME_WORKERS
// (which worker serves which function) and NAME_DEAD (dead-lettered task
// ids, for [Client.Stats]). Workers create them or update them to their
// options; clients only create what is missing.
//
// # Connections
//
// Clients and workers take a *nats.Conn made by the caller, who decides
// servers, credentials and TLS and closes it after [Client.Close] and
// [Worker.Run] return. To ride out a server restart, connect with
// nats.MaxReconnects(-1): clients and workers resume by themselves once the
// connection is back. Package [github.com/goasync/async/dist/server] runs a
// server with JetStream inside a process, for a single machine, a small
// cluster, development and tests; it is a package of its own so that
// programs importing dist do not link the NATS server.
package dist
