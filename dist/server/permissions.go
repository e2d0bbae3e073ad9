package server

import "fmt"

// ClientPermissions are the rights a process that only calls tasks of
// namespace ns needs ([github.com/goasync/async/dist.NewClient], Call,
// Attach, Cancel, Stats): it may publish tasks and cancel requests, read
// stored outcomes and the workers bucket, and use JetStream's API for those
// streams only. It cannot store an
// outcome, advertise a worker, read other callers' requests from the queue,
// or create or change a stream, so the namespace must be set up first by a
// worker (or an administrator) with the same options.
//
// Every client of ns can still read every outcome, cancel any task, and
// submit a task with a Key another caller uses, whose calls then get the
// outcome of the first submitter's request: clients of one namespace trust
// each other; give mutually distrusting callers different namespaces.
//
// It panics if ns is not a valid namespace (letters, digits, '-', '_').
func ClientPermissions(ns string) *Permissions {
	checkNamespace(ns)
	tasks, dead := ns+"_TASKS", ns+"_DEAD"
	results, workers := "KV_"+ns+"_RESULTS", "KV_"+ns+"_WORKERS"
	return &Permissions{
		Publish: Rules{Allow: []string{
			ns + ".task.>",     // tasks
			ns + ".cancel.>",   // cancels to running handlers
			ns + ".ctl.cancel", // cancel requests, stored in the task stream
			"$JS.API.INFO",     // account information
			"$JS.API.STREAM.INFO." + tasks,
			"$JS.API.STREAM.INFO." + dead,
			"$JS.API.STREAM.INFO." + results,
			"$JS.API.STREAM.INFO." + workers,
			"$JS.API.STREAM.MSG.DELETE." + tasks,    // drop a canceled task from the queue
			"$JS.API.CONSUMER.INFO." + tasks + ".*", // Stats
			"$JS.API.DIRECT.GET." + results + ".>",  // look up an outcome
			// Watches of the results bucket and listings of the workers
			// bucket: ordered consumers, made and removed by the client.
			"$JS.API.CONSUMER.CREATE." + results + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + results + ".*",
			"$JS.API.CONSUMER.DELETE." + results + ".*",
			"$JS.API.CONSUMER.CREATE." + workers + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + workers + ".*",
			"$JS.API.CONSUMER.DELETE." + workers + ".*",
			"$JS.FC." + workers + ".>",
		}},
		Subscribe: Rules{Allow: []string{"_INBOX.>", ns + ".started.>"}}, // which worker runs a task, in debug mode
	}
}

// WorkerPermissions are the rights a worker of namespace ns needs
// ([github.com/goasync/async/dist.NewWorker], Run): everything about ns's
// streams and buckets, including storing outcomes. Workers are trusted: a
// worker can store any outcome for any task of ns.
//
// It panics if ns is not a valid namespace (letters, digits, '-', '_').
func WorkerPermissions(ns string) *Permissions {
	checkNamespace(ns)
	tasks, dead := ns+"_TASKS", ns+"_DEAD"
	results, workers := "KV_"+ns+"_RESULTS", "KV_"+ns+"_WORKERS"
	pub := []string{
		"$KV." + ns + "_RESULTS.>", // outcomes
		"$KV." + ns + "_WORKERS.>", // which worker serves which function
		ns + ".dead.>",             // dead-letter records
		ns + ".started.>",          // which worker runs a task, for callers in debug mode
		"$JS.ACK." + tasks + ".>",  // ack, nak, in progress, term
		"$JS.API.CONSUMER.CREATE." + tasks + ".>",
		"$JS.API.CONSUMER.INFO." + tasks + ".*",
		"$JS.API.CONSUMER.MSG.NEXT." + tasks + ".*",
		"$JS.API.DIRECT.GET." + results + ".>",
		"$JS.API.INFO",
	}
	for _, s := range []string{tasks, dead, results, workers} {
		pub = append(pub, "$JS.API.STREAM.INFO."+s, "$JS.API.STREAM.CREATE."+s, "$JS.API.STREAM.UPDATE."+s)
	}
	return &Permissions{
		Publish:   Rules{Allow: pub},
		Subscribe: Rules{Allow: []string{"_INBOX.>", ns + ".cancel.>"}},
	}
}

func checkNamespace(ns string) {
	ok := len(ns) > 0 && len(ns) <= 128
	for i := 0; ok && i < len(ns); i++ {
		c := ns[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	if !ok {
		panic(fmt.Sprintf("async: dist/server: namespace %q: use letters, digits, '-' and '_'", ns))
	}
}
