package awaitloop_test

import (
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/goasync/async/cmd/asyncvet/internal/vettest"
	"github.com/goasync/async/cmd/asyncvet/passes/awaitloop"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAwaitloop(t *testing.T) {
	analysistest.Run(t, vettest.TestData(), awaitloop.Analyzer, "awaitloop")
}

// TestAwaitloopFix applies the suggested fixes and compares the result with
// fix.go.golden.
func TestAwaitloopFix(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, vettest.TestData(), awaitloop.Analyzer, "awaitloopfix")
}
