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
// Run it on its own, or as go vet's tool:
//
//	go run github.com/goasync/async/cmd/asyncvet ./...
//	go install github.com/goasync/async/cmd/asyncvet
//	go vet -vettool=$(go env GOPATH)/bin/asyncvet ./...
//
// Like go vet, it exits 1 and prints file:line:col: message for findings
// when run on its own (go vet itself reports and exits non-zero), and 0
// when there are none. Flags: -NAME=false turns a check off, -fix applies
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
