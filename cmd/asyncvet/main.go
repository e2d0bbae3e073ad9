// Command asyncvet reports the classic async mistakes in code that uses
// github.com/goasync/async, before it runs:
//
//   - unawaited: a future discarded or never awaited (its result and error are lost)
//   - awaitloop: a task started and awaited in each iteration of an independent loop
//   - lockawait: a sync.Mutex or RWMutex held across an await
//   - blocking: time.Sleep and other blocking calls inside async.RunLoop code
//   - ctxforward: context.Background() passed to the library while ctx is in scope
//   - scopewait: an async.NewScope whose Wait is not called on every path
//
// In a module that uses goasync, add it as a tool and run it (Go 1.24+):
//
//	go get -tool github.com/goasync/async/cmd/asyncvet
//	go tool asyncvet ./...
//
// or as go vet's tool:
//
//	go install github.com/goasync/async/cmd/asyncvet@latest
//	go vet -vettool=$(go env GOPATH)/bin/asyncvet ./...
//
// It prints file:line:col: message on stderr for each finding. On its own it
// exits 0 when there is nothing to report, 3 when there are findings and 1
// when the packages cannot be loaded or analyzed (as every x/tools analysis
// driver does); under go vet the exit status is go vet's, 1 for findings.
// Flags: -NAME=false turns a check off, -fix applies
// the suggested fixes (awaitloop, ctxforward), -json prints JSON. A finding
// that is intended can be silenced where it occurs with
//
//	//asyncvet:ignore CHECK reason
//
// on the flagged line or the line above. Each check is an
// *analysis.Analyzer in its own package under passes/, for use in other
// drivers (golangci-lint, gopls, your own multichecker).
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/goasync/async/cmd/asyncvet/passes"
)

// analyzers are the checks, in the order the documentation lists them.
var analyzers = passes.All()

func main() {
	// multichecker also speaks go vet's -vettool protocol (-V=full, -flags,
	// and one .cfg file per package), so one binary serves both uses.
	multichecker.Main(analyzers...)
}
