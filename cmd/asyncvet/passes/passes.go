// Package passes lists asyncvet's checks, for the command and for the
// golangci-lint plugin alike.
package passes

import (
	"golang.org/x/tools/go/analysis"

	"github.com/goasync/async/cmd/asyncvet/passes/awaitloop"
	"github.com/goasync/async/cmd/asyncvet/passes/blocking"
	"github.com/goasync/async/cmd/asyncvet/passes/ctxforward"
	"github.com/goasync/async/cmd/asyncvet/passes/lockawait"
	"github.com/goasync/async/cmd/asyncvet/passes/scopewait"
	"github.com/goasync/async/cmd/asyncvet/passes/unawaited"
)

// All returns the checks, in the order the documentation lists them.
func All() []*analysis.Analyzer {
	return []*analysis.Analyzer{
		unawaited.Analyzer,
		awaitloop.Analyzer,
		lockawait.Analyzer,
		blocking.Analyzer,
		ctxforward.Analyzer,
		scopewait.Analyzer,
	}
}
