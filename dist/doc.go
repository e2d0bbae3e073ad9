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
//     future when it passes even if no worker is alive, and a name that no
//     worker serves fails at once with [ErrNoWorker] (unless the caller
//     chose [WaitForWorker]).
//
// Streams and buckets (names start with the [Namespace], "ASYNC" by default)
// are created on first use by clients and workers: NAME_TASKS (work queue),
// NAME_RESULTS (outcomes, kept 24 hours) and NAME_WORKERS (which worker
// serves which function).
//
// # Connections
//
// Clients and workers take a *nats.Conn made by the caller, who decides
// servers, credentials and TLS and closes it after [Client.Close] and
// [Worker.Run] return. To ride out a server restart, connect with
// nats.MaxReconnects(-1): clients and workers resume by themselves once the
// connection is back. [StartServer] embeds a server with JetStream in the
// current process, for a single machine, development and tests.
package dist
