package main

import (
	"context"
	"runtime"
	"testing"

	"github.com/goasync/async"
)

// The live workload behind -console shows tasks in the registry, including
// its await cycle, and stops when its context ends.
func TestLiveDemo(t *testing.T) {
	defer async.SetDebug(async.SetDebug(true))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- liveDemo(ctx) }()
	names := map[string]bool{}
	for len(async.AwaitCycles(async.Tasks())) == 0 || !names["charge-card"] || !names["thumbnails"] {
		for _, ti := range async.Tasks() {
			names[ti.Name] = true
		}
		runtime.Gosched() // until the workload shows
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
