package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"

	"github.com/goasync/async"
	"github.com/goasync/async/console"
)

// The console's JSON API reports await cycles (the page highlights them).
func ExampleHandler() {
	defer async.SetDebug(async.SetDebug(true))
	srv := httptest.NewServer(console.Handler()) // a real program would ListenAndServe on 127.0.0.1
	defer srv.Close()

	ctx := context.Background()
	var b *async.Future[int]
	ready := make(chan struct{})
	a := async.Go(ctx, func(ctx context.Context) (int, error) { <-ready; return b.Await(ctx) }, async.Name("A"))
	b = async.Go(ctx, func(ctx context.Context) (int, error) { return a.Await(ctx) }, async.Name("B"))
	close(ready)
	for len(async.AwaitCycles(async.Tasks())) == 0 {
		runtime.Gosched() // until both wait
	}

	res, err := srv.Client().Get(srv.URL + "/api/tasks")
	if err != nil {
		panic(err)
	}
	var snap console.Snapshot
	json.NewDecoder(res.Body).Decode(&snap)
	res.Body.Close()
	for _, t := range snap.Tasks {
		if t.InCycle {
			fmt.Println(t.Name, t.State, "in an await cycle")
		}
	}
	a.Cancel()
	b.Await(ctx)
	// Output:
	// A blocked in an await cycle
	// B blocked in an await cycle
}

// Reached under another name than localhost (an SSH tunnel to a machine's
// name, a container's address), the console must be told that name; and it
// can be mounted under a path.
func ExampleAllowHosts() {
	mux := http.NewServeMux()
	mux.Handle("/debug/async/", http.StripPrefix("/debug/async", console.Handler(console.AllowHosts("build-box"), console.MaxStreams(8))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, host := range []string{"localhost", "build-box", "attacker.example"} {
		req, _ := http.NewRequest("GET", srv.URL+"/debug/async/api/tasks", nil)
		req.Host = host
		res, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		res.Body.Close()
		fmt.Println(host, res.StatusCode)
	}
	// Output:
	// localhost 200
	// build-box 200
	// attacker.example 403
}
