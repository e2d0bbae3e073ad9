package ctxforward_test

import (
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/goasync/async/cmd/asyncvet/internal/vettest"
	"github.com/goasync/async/cmd/asyncvet/passes/ctxforward"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCtxforward checks the diagnostics and, against ctxforward.go.golden,
// the suggested fix that passes the context in scope.
func TestCtxforward(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, vettest.TestData(), ctxforward.Analyzer, "ctxforward")
}
