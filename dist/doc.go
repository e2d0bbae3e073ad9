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
// # Who may do what
//
// dist adds no authentication of its own: whoever may publish and subscribe
// on a namespace's subjects is a participant, and NATS decides who may.
// With one NATS user for everyone, every participant can read every request
// and outcome, cancel any task, advertise a fake worker, and store any
// outcome under any task id it has seen or can compute (the id of a call
// with a [Key] is a hash of the key), which the caller would take as the
// result.
//
// Give clients and workers separate NATS users with the permissions of
// [github.com/goasync/async/dist/server.ClientPermissions] and
// WorkerPermissions (examples/permissions/nats-server.conf is the same for
// nats-server). Then:
//
//   - only workers store outcomes, advertise themselves, take tasks from the
//     queue and create or change streams (a worker sets the namespace up
//     before clients start);
//   - clients submit tasks, send cancel requests (a worker stores
//     "canceled"), and read outcomes and the workers bucket;
//   - a client still reads every outcome of the namespace, may cancel any
//     task, and may submit a task with a [Key] another caller uses, whose
//     calls then get the outcome of the first submitter's request, computed
//     by a real worker (a plain call's id ends with 96 random bits, so it
//     cannot be taken first). Clients of one namespace must therefore trust
//     each other; give callers that do not a namespace (and users) each;
//   - workers are trusted with everything in their namespace.
//
// Use TLS on any network you do not control: credentials and payloads
// otherwise travel in clear.
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
