package blocking_test

import (
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/goasync/async/cmd/asyncvet/internal/vettest"
	"github.com/goasync/async/cmd/asyncvet/passes/blocking"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBlocking(t *testing.T) {
	analysistest.Run(t, vettest.TestData(), blocking.Analyzer, "blocking")
}
