package scopewait_test

import (
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/goasync/async/cmd/asyncvet/internal/vettest"
	"github.com/goasync/async/cmd/asyncvet/passes/scopewait"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestScopewait(t *testing.T) {
	analysistest.Run(t, vettest.TestData(), scopewait.Analyzer, "scopewait")
}
